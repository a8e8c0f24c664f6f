import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import SocialAccount
from config.celery import app as celery_app
from publishing.health import (
    BROKER_TIMEOUT_SECONDS,
    backlog_read,
    broker_check,
    health_checks,
    info_read,
    next_due_at,
    status_read,
)
from publishing.heartbeats import heartbeat_worker_record
from publishing.models import Heartbeat
from publishing.models import JobStatus as S
from tests.factories import PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def alive(*, at: datetime = NOON) -> None:
    """A tick and a worker recorded at `at`."""
    Heartbeat.objects.create(kind=Heartbeat.Kind.TICK, name="dispatch", seen_at=at)
    heartbeat_worker_record(name="host:1", now=at)


def checks(*, now: datetime) -> dict[str, bool]:
    return {check.name: check.ok for check in health_checks(now=now)}


def test_everything_ok_when_ticking_with_a_worker_and_no_backlog():
    alive()
    assert checks(now=NOON + timedelta(seconds=2)) == {
        "database": True,
        "broker": True,
        "tick": True,
        "workers": True,
        "backlog": True,
    }


def test_the_tick_fails_once_older_than_the_period_plus_five_ticks(settings):
    settings.KAIROS_HEARTBEAT_SECONDS = 5
    settings.KAIROS_TICK_SECONDS = 1
    alive()
    assert checks(now=NOON + timedelta(seconds=10))["tick"]
    assert not checks(now=NOON + timedelta(seconds=10.5))["tick"]


def test_no_tick_ever_and_no_worker_fail():
    result = checks(now=NOON)
    assert not result["tick"] and not result["workers"]


def test_a_due_job_unqueued_past_the_limit_fails_the_backlog(settings):
    settings.KAIROS_READY_MAX_BACKLOG_SECONDS = 60
    alive(at=NOON + timedelta(seconds=61))
    PublishJobFactory(next_attempt_at=NOON, due_at=NOON, occurrence_at=NOON)
    assert checks(now=NOON + timedelta(seconds=60))["backlog"]
    assert not checks(now=NOON + timedelta(seconds=61))["backlog"]


def test_jobs_held_by_a_paused_account_or_workspace_are_no_backlog():
    paused = SandboxAccountFactory(status=SocialAccount.Status.PAUSED)
    PublishJobFactory(account=paused, post__workspace=paused.workspace, next_attempt_at=NOON)
    job = PublishJobFactory(next_attempt_at=NOON)
    job.post.workspace.publishing_paused_at = NOON
    job.post.workspace.save()
    PublishJobFactory(next_attempt_at=NOON + timedelta(seconds=5))
    due = PublishJobFactory(next_attempt_at=NOON - timedelta(seconds=3))
    backlog = backlog_read(now=NOON)
    assert (backlog.count, backlog.oldest_due_at, backlog.oldest_seconds) == (
        1,
        due.next_attempt_at,
        3.0,
    )


def test_next_due_is_the_earliest_waiting_job_or_schedule():
    PublishJobFactory(next_attempt_at=NOON + timedelta(minutes=5))
    PublishJobFactory(next_attempt_at=NOON + timedelta(minutes=2))
    PublishJobFactory(next_attempt_at=NOON - timedelta(minutes=2))
    assert next_due_at(now=NOON) == NOON + timedelta(minutes=2)


def test_status_is_ok_when_publishing_and_nothing_waits_for_a_person():
    alive()
    assert status_read(now=NOON).state == "ok"


def test_needs_review_stuck_jobs_and_accounts_need_attention(settings):
    alive(at=NOON + timedelta(minutes=10))
    PublishJobFactory(status=S.NEEDS_REVIEW, error_message="Check @brand.")
    PublishJobFactory(status=S.QUEUED, lease_expires_at=NOON)
    SandboxAccountFactory(status=SocialAccount.Status.NEEDS_REAUTH)
    SandboxAccountFactory(billing_problem="X refused: payment required.")
    status = status_read(now=NOON + timedelta(minutes=10))
    assert status.state == "attention"
    assert status.attention == [
        "1 job(s) need review",
        "1 job(s) stuck past their lease",
        "2 account(s) need attention",
    ]


@pytest.mark.parametrize(
    ("version", "today", "told"),
    [
        ("202607", "2027-05-15", False),  # 61 days before 2027-07-15
        ("202607", "2027-05-16", True),
        ("202607.01", "2027-08-01", True),  # retired already: told still
        ("202512", "2026-10-17", True),
        ("July 2026", "2026-08-01", True),  # no version at all
    ],
)
def test_linkedin_in_use_with_a_version_near_its_retirement_needs_attention(
    settings, version, today, told
):
    settings.LINKEDIN_CLIENT_ID = "kairos-app"
    settings.LINKEDIN_VERSION = version
    now = datetime.fromisoformat(today).replace(hour=12, tzinfo=UTC)
    alive(at=now)
    status = status_read(now=now)
    assert (status.state, bool(status.attention)) == (
        ("attention", True) if told else ("ok", False)
    )
    if told:
        [reason] = status.attention
        assert "LINKEDIN_VERSION" in reason and version in reason


def test_a_linkedin_version_matters_only_where_linkedin_is_used(settings):
    settings.LINKEDIN_CLIENT_ID = ""
    settings.LINKEDIN_VERSION = "202401"
    alive()
    assert status_read(now=NOON).state == "ok"
    SandboxAccountFactory(network=SocialAccount.Network.LINKEDIN)
    assert status_read(now=NOON).attention == [
        "LinkedIn retires API version 202401 from about 2025-01-15: set LINKEDIN_VERSION to "
        "a recent month (YYYYMM) and restart"
    ]


@pytest.mark.parametrize(
    ("version", "today", "told"),
    [
        ("v21.0", "2026-11-21", False),  # 61 days before 2027-01-21
        ("v21.0", "2026-11-22", True),
        ("v20.0", "2026-12-01", True),  # retired already
        ("v27.0", "2031-01-01", False),  # no day known yet
    ],
)
def test_meta_in_use_with_a_graph_version_near_its_retirement_needs_attention(
    settings, version, today, told
):
    settings.META_APP_ID = ""
    settings.META_GRAPH_VERSION = version
    now = datetime.fromisoformat(today).replace(hour=12, tzinfo=UTC)
    alive(at=now)
    assert status_read(now=now).attention == []  # no Meta app, no Meta account
    SandboxAccountFactory(network=SocialAccount.Network.INSTAGRAM)
    attention = status_read(now=now).attention
    assert bool(attention) is told
    if told:
        assert "META_GRAPH_VERSION" in attention[0] and version in attention[0]


def test_a_failing_check_makes_the_status_failing_whatever_else():
    PublishJobFactory(status=S.NEEDS_REVIEW)
    status = status_read(now=NOON)
    assert status.state == "failing"
    assert [check.name for check in status.failing] == ["tick", "workers"]


def test_info_names_what_runs_and_counts_but_no_secret(settings):
    settings.CELERY_BROKER_URL = "redis://:hunter2@redis.internal:6379/0"
    settings.KAIROS_METRICS_TOKEN = "scrape-token"
    PublishJobFactory(status=S.PUBLISHED)
    with time_machine.travel(NOON):
        info = info_read()
    assert info["version"] == "0.1.0"
    assert info["settings"]["broker"] == "redis"
    assert info["settings"]["metrics_enabled"] is True
    assert info["counts"]["jobs"]["published"] == 1
    assert info["counts"]["accounts"] == {"sandbox:active": 1}
    text = str(info)
    for secret in ("hunter2", "redis.internal", "scrape-token", settings.SECRET_KEY):
        assert secret not in text


def test_a_broker_that_accepts_but_never_answers_fails_within_its_timeout(monkeypatch):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    monkeypatch.setitem(
        celery_app.conf, "broker_url", f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    )
    started = time.monotonic()
    try:
        check = broker_check()
    finally:
        silent.close()
    assert (check.ok, check.detail) == (False, {"error": "OperationalError"})
    assert time.monotonic() - started < BROKER_TIMEOUT_SECONDS + 2
