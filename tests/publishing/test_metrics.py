import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from prometheus_client import REGISTRY

from publishing import dispatch, heartbeats, networks, tasks
from publishing.execution import job_execute
from publishing.heartbeats import heartbeat_worker_record
from publishing.metrics import metrics_exposition, metrics_folder_reset, metrics_process_dead
from publishing.models import JobStatus as S
from publishing.networks.base import Credentials, ErrorKind, PublishError
from publishing.networks.sandbox import SandboxAdapter
from publishing.plans import schedule_once
from publishing.ratelimits import WindowReading, account_key, rate_limits_record
from publishing.stores import DatabaseStore, account_snapshot
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counted:
    """What one sample gained while the block ran: the registry is the process's own."""

    def __init__(self, name: str, **labels: str) -> None:
        self.name, self.labels = name, labels

    def __enter__(self):
        self.before = sample(self.name, **self.labels)
        return self

    def __exit__(self, *exc) -> None:
        self.gained = sample(self.name, **self.labels) - self.before


def test_a_job_published_three_seconds_late_counts_its_attempt_lateness_and_lag():
    job = PublishJobFactory(status=S.QUEUED, occurrence_at=NOON, due_at=NOON, next_attempt_at=NOON)
    sandbox = {"network": "sandbox"}
    with (
        Counted(
            "kairos_publish_attempts_total",
            network="sandbox",
            outcome="success",
            error_kind="none",
        ) as attempts,
        Counted("kairos_publish_lateness_seconds_count", **sandbox) as published,
        Counted("kairos_publish_lateness_seconds_sum", **sandbox) as lateness,
        Counted("kairos_publish_lateness_seconds_bucket", le="2.0", **sandbox) as within_2s,
        Counted("kairos_publish_lateness_seconds_bucket", le="5.0", **sandbox) as within_5s,
        Counted("kairos_dispatch_lag_seconds_sum") as lag,
        time_machine.travel(NOON + timedelta(seconds=3), tick=False),
    ):
        assert job_execute(job_id=job.pk) == S.PUBLISHED
    assert (attempts.gained, published.gained, lateness.gained) == (1, 1, 3.0)
    assert (within_2s.gained, within_5s.gained) == (0, 1)
    assert lag.gained == 3.0


class FailingSandbox(SandboxAdapter):
    def publish(self, request, *, store, on_part_published, on_media_uploaded=None):
        raise PublishError(kind=ErrorKind.SERVER, message="503 from the network.")


def test_a_failed_attempt_counts_under_its_error_kind(monkeypatch):
    monkeypatch.setitem(networks._ADAPTERS, "sandbox", FailingSandbox())
    job = PublishJobFactory(status=S.QUEUED)
    labels = {"network": "sandbox", "outcome": "retry", "error_kind": "server"}
    with (
        Counted("kairos_publish_attempts_total", **labels) as retried,
        Counted("kairos_publish_lateness_seconds_count", network="sandbox") as published,
    ):
        assert job_execute(job_id=job.pk) == S.PENDING
    assert (retried.gained, published.gained) == (1, 0)


def test_a_spent_rate_limit_counts_a_deferral():
    job = PublishJobFactory(status=S.QUEUED)
    now = timezone.now()
    reading = WindowReading(
        account_key(job.account_id), "post", "15m", 100, 0, now + timedelta(minutes=5)
    )
    rate_limits_record(network="sandbox", readings=[reading], now=now)
    with Counted("kairos_rate_limit_deferrals_total", network="sandbox") as deferred:
        assert job_execute(job_id=job.pk) == "not-claimed"
    assert deferred.gained == 1


def test_a_tick_counts_what_it_did_and_its_duration(monkeypatch):
    monkeypatch.setattr(heartbeats, "_tick_recorded_at", None)
    account = SandboxAccountFactory()
    post = PostFactory(workspace=account.workspace, accounts=[account])
    with time_machine.travel(NOON - timedelta(hours=1)):
        schedule_once(
            post=post,
            local_date=NOON.date(),
            local_time=NOON.time(),
            timezone_name="UTC",
            actor=None,
        )
    with (
        Counted("kairos_tick_jobs_total", action="materialized") as materialized,
        Counted("kairos_tick_jobs_total", action="queued") as queued,
        Counted("kairos_tick_duration_seconds_count") as ticks,
    ):
        dispatch.tick(now=NOON)
    assert (materialized.gained, queued.gained, ticks.gained) == (1, 1, 1)


def test_a_reconciliation_counts_its_outcome():
    job = PublishJobFactory(status=S.PUBLISHED)
    with Counted("kairos_reconciliations_total", outcome="not-claimed") as counted:
        tasks.reconcile_job(job.pk, 99)
    assert counted.gained == 1


def test_every_renewed_sign_in_is_counted_and_a_kept_one_is_not():
    account = SandboxAccountFactory()
    store = DatabaseStore(network="x")
    renewed = Credentials(values={"access_token": "new"}, expires_at=NOON)
    with Counted("kairos_token_refreshes_total", network="x") as refreshed:
        store.credentials_renew(account=account_snapshot(account), renew=lambda now: renewed)
        store.credentials_renew(account=account_snapshot(account), renew=lambda now: None)
    assert refreshed.gained == 1


def test_the_database_gauges_are_read_at_scrape_time():
    PublishJobFactory(status=S.PUBLISHED)
    PublishJobFactory(status=S.NEEDS_REVIEW)
    PublishJobFactory(status=S.PENDING, next_attempt_at=NOON - timedelta(seconds=30))
    heartbeat_worker_record(name="host:1", now=NOON)
    text = metrics_exposition(now=NOON).decode()
    for line in (
        'kairos_jobs{status="published"} 1.0',
        'kairos_jobs{status="needs_review"} 1.0',
        'kairos_jobs{status="cancelled"} 0.0',
        "kairos_dispatch_backlog_jobs 1.0",
        "kairos_dispatch_backlog_oldest_seconds 30.0",
        "kairos_tick_age_seconds +Inf",
        "kairos_workers_seen 1.0",
        'kairos_accounts{network="sandbox",status="active"} 3.0',
    ):
        assert line in text.splitlines(), line


def test_metrics_are_off_without_a_token(client, settings):
    settings.KAIROS_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize(
    "authorization", ["", "Bearer wrong", "Basic c2NyYXBlOnRva2Vu", "Bearer ünï"]
)
def test_metrics_refuse_a_scraper_without_the_token(client, settings, authorization):
    settings.KAIROS_METRICS_TOKEN = "scrape-token"
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_answer_a_scraper_with_the_token(client, settings):
    settings.KAIROS_METRICS_TOKEN = "scrape-token"
    PublishJobFactory(status=S.PUBLISHED)
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert 'kairos_jobs{status="published"} 1.0' in text
    assert "# TYPE kairos_publish_attempts_total counter" in text


def test_counts_of_other_processes_are_added_up_from_the_shared_folder(settings, tmp_path):
    """Another process (a worker) counts into the folder; this one (the web) exposes it."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left by an earlier run")
    settings.PROMETHEUS_MULTIPROC_DIR = str(folder)
    metrics_folder_reset()
    assert list(folder.iterdir()) == []
    worker = (
        "import django; django.setup(); from publishing import metrics; "
        "metrics.reconciliation_observe(outcome='published'); "
        "metrics.reconciliation_observe(outcome='published')"
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "KAIROS_DATA_DIR": str(tmp_path)}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", worker], cwd=ROOT, env=env, check=True, timeout=60)
    exited_live_gauge = folder / "gauge_livesum_999999.db"
    exited_live_gauge.touch()
    metrics_process_dead(pid=999999)
    assert not exited_live_gauge.exists()
    text = metrics_exposition(now=timezone.now()).decode()
    assert 'kairos_reconciliations_total{outcome="published"} 2.0' in text.splitlines()
