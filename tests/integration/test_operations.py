"""Probes and metrics against real processes: a worker and a beat on PostgreSQL and Redis.

The test process plays the web: it answers /readyz and /metrics with Django's test
client, reading the database the processes write and the metrics folder they count in.
"""

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from publishing.beat import beat_entries_ensure
from publishing.heartbeats import tick_stale_after
from publishing.metrics import metrics_folder_reset
from publishing.models import JobStatus
from tests.factories import PostFactory, SandboxAccountFactory
from tests.integration.test_publish_end_to_end import schedule_seconds_ahead, wait_until_finished

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HEARTBEAT_SECONDS = 1
TOKEN = "integration-scrape-token"


@pytest.fixture
def operations(settings, tmp_path, monkeypatch):
    """This process and the Celery ones agree on heartbeats and share a metrics folder,
    emptied before they start. This process's broker checks ask the real Redis."""
    folder = tmp_path / "metrics"
    settings.KAIROS_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    settings.KAIROS_TICK_SECONDS = 1
    settings.KAIROS_METRICS_TOKEN = TOKEN
    settings.PROMETHEUS_MULTIPROC_DIR = str(folder)
    metrics_folder_reset()
    monkeypatch.setitem(celery_app.conf, "broker_url", settings.CELERY_BROKER_URL)
    return {
        "KAIROS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "KAIROS_TICK_SECONDS": "1",
        "KAIROS_METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }


@pytest.fixture
def celery_env(operations):
    return operations


def ready(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    return response.status_code, response.json()


def wait_for_ready(client, *, status: int, timeout: float) -> tuple[float, dict]:
    """Poll /readyz until it answers `status`; return the seconds it took and the body."""
    started = time.monotonic()
    while True:
        code, body = ready(client)
        if code == status:
            return time.monotonic() - started, body
        if time.monotonic() - started > timeout:
            raise AssertionError(f"/readyz still {code} after {timeout}s: {body}")
        time.sleep(0.1)


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def scrape_until(client, key: tuple[str, tuple], *, timeout: float) -> dict:
    """The scrape once it holds `key`; the last scrape when `timeout` passed."""
    deadline = time.monotonic() + timeout
    while True:
        metrics = scrape(client)
        if key in metrics or time.monotonic() > deadline:
            return metrics
        time.sleep(0.1)


def test_ready_fails_within_a_few_ticks_of_stopping_beat_and_recovers_when_it_restarts(
    celery_processes, client
):
    beat_entries_ensure()
    took, body = wait_for_ready(client, status=200, timeout=60)
    assert body["checks"]["workers"]["seen"] == 1
    assert body["checks"]["broker"]["queues"]["publish"] == 0
    print(f"\nready {took:.1f} s after the worker and beat started")

    celery_processes["beat"].terminate()
    stale_after = tick_stale_after().total_seconds()
    took, body = wait_for_ready(client, status=503, timeout=stale_after + 10)
    print(f"/readyz failing {took:.1f} s after beat stopped (stale after {stale_after:.0f} s)")
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["tick"]
    # The last recorded tick may be one heartbeat old when beat stops, and one more tick
    # may still wait in the broker; the probe polls every 0.1 s.
    assert took <= stale_after + HEARTBEAT_SECONDS + 2

    celery_processes["beat"].start()
    took, body = wait_for_ready(client, status=200, timeout=30)
    print(f"/readyz ok again {took:.1f} s after beat restarted")
    assert body["checks"]["tick"]["age_seconds"] <= HEARTBEAT_SECONDS + 1
    assert took <= 15


def test_metrics_count_what_a_real_worker_published(celery_processes, client):
    beat_entries_ensure()
    wait_for_ready(client, status=200, timeout=60)
    account = SandboxAccountFactory(handle="metrics")
    post = PostFactory(workspace=account.workspace, accounts=[account], texts=["Counted."])
    due = schedule_seconds_ahead(post, seconds=2, zone_name="UTC")
    job = wait_until_finished(post, timeout=30)
    assert job.status == JobStatus.PUBLISHED, job.error_message
    lateness = (job.published_at - due).total_seconds()

    sandbox = (("network", "sandbox"),)
    success = (("error_kind", "none"), ("network", "sandbox"), ("outcome", "success"))
    # The worker counts once the job's row is committed and its after-commit work (the
    # events' doorbell) is sent: a moment after the row shows it published.
    metrics = scrape_until(client, ("kairos_publish_attempts_total", success), timeout=10)
    print(f"\nlateness {lateness:.3f} s; scraped {len(metrics)} samples")
    assert metrics[("kairos_publish_attempts_total", success)] == 1
    assert metrics[("kairos_publish_lateness_seconds_count", sandbox)] == 1
    assert metrics[("kairos_publish_lateness_seconds_sum", sandbox)] == pytest.approx(
        lateness, abs=0.001
    )
    assert metrics[("kairos_dispatch_lag_seconds_count", ())] == 1
    assert metrics[("kairos_tick_jobs_total", (("action", "materialized"),))] == 1
    assert metrics[("kairos_tick_jobs_total", (("action", "queued"),))] == 1
    assert metrics[("kairos_tick_duration_seconds_count", ())] >= 3
    assert metrics[("kairos_jobs", (("status", "published"),))] == 1
    assert metrics[("kairos_jobs", (("status", "pending"),))] == 0
    assert metrics[("kairos_dispatch_backlog_jobs", ())] == 0
    assert metrics[("kairos_workers_seen", ())] == 1
    assert metrics[("kairos_tick_age_seconds", ())] <= tick_stale_after().total_seconds()
    assert metrics[("kairos_accounts", (("network", "sandbox"), ("status", "active")))] == 1
