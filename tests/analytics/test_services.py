"""Metrics snapshots on their plan, over real HTTP against the fake X, with the clock moved."""

from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import AuditEvent
from accounts.services import social_account_connect
from analytics.models import MetricsSnapshot
from analytics.services import RETRY_AFTER, metrics_collect_due
from analytics.tasks import metrics_collect
from publishing.beat import METRICS_COLLECT
from publishing.execution import job_execute
from publishing.metrics_plan import METRICS_PLAN, metrics_jitter
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from publishing.networks.sandbox.metrics import sandbox_metrics
from publishing.services import job_mark_published
from tests.factories import PostFactory, PublishJobFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def x(fake_x, settings, clock):
    fake_x.control.reset()
    settings.X_API_BASE_URL = fake_x.url
    return fake_x


@pytest.fixture
def brand(x):
    return x.control.create_connected_user(username="kairos_brand")


@pytest.fixture
def account(brand):
    return social_account_connect(
        network="x",
        workspace=WorkspaceFactory(),
        external_id=brand.id,
        handle="kairos_brand",
        credentials={"access_token": brand.access_token},
    )


def reconnect(x, account):
    """A fresh token after the clock moved past the last one's two hours."""
    return social_account_connect(
        network="x",
        workspace=account.workspace,
        external_id=account.external_id,
        handle=account.handle,
        credentials={"access_token": x.control.issue_tokens(account.external_id)["access_token"]},
    )


def published(account, text="Launch day") -> PublishJob:
    post = PostFactory(workspace=account.workspace, texts=[text])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    return job


def collect_at(x, account, clock, moment: datetime) -> int:
    clock.move_to(moment)
    reconnect(x, account)
    return metrics_collect_due(now=timezone.now())


def test_snapshots_follow_the_plan_then_stop_after_30_days(x, account, clock):
    job = published(account)
    assert job.metrics_due_at == NOW + timedelta(hours=1)

    stored = []
    for after in METRICS_PLAN:
        assert collect_at(x, account, clock, NOW + after - timedelta(minutes=1)) == 0
        stored.append(collect_at(x, account, clock, NOW + after))

    assert stored == [1] * len(METRICS_PLAN)
    snapshots = list(job.metrics.order_by("due_at"))
    assert [snapshot.due_at - NOW for snapshot in snapshots] == [
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(hours=24),
        timedelta(days=7),
        *(timedelta(days=day) for day in range(8, 31)),
    ]
    # Growing numbers, read at their moment.
    assert snapshots[0].impressions < snapshots[-1].impressions
    assert {snapshot.collected_at - snapshot.due_at for snapshot in snapshots} == {timedelta(0)}
    # X gives private numbers for the account's posts of the last 30 days only: on day 30
    # it refuses them (not-authorized-for-field) and the public ones are kept.
    assert all(snapshot.link_clicks is not None for snapshot in snapshots[:-1])
    assert (snapshots[-1].link_clicks, snapshots[-1].likes is not None) == (None, True)
    job.refresh_from_db()
    assert job.metrics_due_at is None


def test_a_collector_that_was_down_catches_up_with_one_snapshot(x, account, clock):
    job = published(account)

    assert collect_at(x, account, clock, NOW + timedelta(days=3)) == 1

    assert [snapshot.due_at for snapshot in job.metrics.all()] == [NOW + timedelta(hours=24)]
    job.refresh_from_db()
    assert job.metrics_due_at == NOW + timedelta(days=7)


def test_collecting_twice_stores_once(x, account, clock):
    job = published(account)
    collect_at(x, account, clock, NOW + timedelta(hours=1))
    PublishJob.objects.filter(pk=job.pk).update(metrics_due_at=NOW + timedelta(hours=1))

    assert metrics_collect_due(now=timezone.now()) == 0
    assert job.metrics.count() == 1
    # One post.metrics_updated event per snapshot stored, with its numbers.
    [event] = AuditEvent.objects.filter(action="post.metrics_updated")
    snapshot = job.metrics.get()
    assert (event.subject_id, event.workspace_id) == (str(job.pk), account.workspace_id)
    assert event.data["post"] == job.post_id
    assert event.data["metrics"]["impressions"] == snapshot.impressions is not None


def test_ids_are_read_in_one_call_per_account(x, account, clock):
    other_user = x.control.create_connected_user(username="sister_brand")
    sister = social_account_connect(
        network="x",
        workspace=account.workspace,
        external_id=other_user.id,
        handle="sister_brand",
        credentials={"access_token": other_user.access_token},
    )
    jobs = [published(account, "One"), published(account, "Two"), published(sister, "Three")]

    clock.move_to(NOW + timedelta(hours=1))
    reconnect(x, account)
    reconnect(x, sister)
    assert metrics_collect_due(now=timezone.now()) == 3

    assert sum(x.control.stats()["requests"]["GET /2/tweets"].values()) == 2
    assert all(job.metrics.count() == 1 for job in jobs)


def test_a_post_deleted_on_x_stops_being_collected(x, brand, account, clock):
    job = published(account)
    requests.delete(f"{x.url}/2/tweets/{job.external_id}", headers=brand.headers, timeout=5)

    assert collect_at(x, account, clock, NOW + timedelta(hours=1)) == 0

    job.refresh_from_db()
    assert (job.metrics.count(), job.metrics_due_at) == (0, None)


def test_when_x_cannot_answer_the_account_waits_and_is_asked_again(x, account, clock):
    job = published(account)
    x.control.add_fault("status", status=503, method="GET", path_prefix="/2/tweets")

    assert collect_at(x, account, clock, NOW + timedelta(hours=1)) == 0

    job.refresh_from_db()
    assert job.metrics_due_at == NOW + timedelta(hours=1) + RETRY_AFTER
    assert collect_at(x, account, clock, job.metrics_due_at) == 1


def test_an_account_x_still_cannot_answer_after_the_plan_is_given_up(x, account, clock):
    job = published(account)
    x.control.add_fault("status", status=503, method="GET", path_prefix="/2/tweets")

    assert collect_at(x, account, clock, NOW + timedelta(days=31)) == 0

    job.refresh_from_db()
    assert job.metrics_due_at is None


def test_sandbox_posts_get_simulated_metrics_on_the_same_plan(clock):
    job = PublishJobFactory(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    assert job.metrics_due_at == job.published_at + METRICS_PLAN[0]

    clock.move_to(NOW + timedelta(hours=6))
    assert metrics_collect_due(now=NOW + timedelta(hours=6)) == 1
    snapshot = MetricsSnapshot.objects.get(job=job)
    expected = sandbox_metrics(post_id=job.external_id, age=timedelta(hours=6))
    assert snapshot.impressions == expected.impressions > 0
    assert snapshot.likes == expected.likes
    assert snapshot.raw == {"simulated": True}


def test_a_post_staff_marked_published_is_collected_too(x, account, clock):
    post_id = requests.post(
        f"{x.url}/2/tweets",
        json={"text": "Found it"},
        headers={
            "Authorization": f"Bearer {x.control.issue_tokens(account.external_id)['access_token']}"
        },
        timeout=5,
    ).json()["data"]["id"]
    job = PublishJobFactory(
        post=PostFactory(workspace=account.workspace), account=account, status=S.NEEDS_REVIEW
    )
    job_mark_published(job=job, url=f"https://x.com/kairos_brand/status/{post_id}", actor=None)

    assert collect_at(x, account, clock, NOW + timedelta(hours=1)) == 1
    assert MetricsSnapshot.objects.get().job == job


def test_the_collector_runs_every_minute_from_beat(clock):
    entry = PeriodicTask.objects.get(name=METRICS_COLLECT)
    assert entry.task == "analytics.tasks.metrics_collect"
    assert entry.interval.schedule.run_every == timedelta(minutes=1)
    assert metrics_collect() == 0


def test_reads_are_spread_by_job_but_snapshots_keep_their_moment(settings, clock):
    settings.KAIROS_METRICS_JITTER_SECONDS = 600
    jobs = [PublishJobFactory(status=S.QUEUED) for _ in range(20)]
    for job in jobs:
        assert job_execute(job_id=job.pk) == S.PUBLISHED
    jitters = [metrics_jitter(job_id=job.pk) for job in jobs]
    assert all(timedelta(0) <= jitter < timedelta(minutes=10) for jitter in jitters)
    assert len(set(jitters)) == 20
    for job, jitter in zip(jobs, jitters, strict=True):
        job.refresh_from_db()
        assert job.metrics_due_at == NOW + METRICS_PLAN[0] + jitter

    # At the hour only the jobs whose share is nothing are read; ten minutes on, all.
    assert metrics_collect_due(now=NOW + timedelta(hours=1)) == jitters.count(timedelta(0))
    later = NOW + timedelta(hours=1, minutes=10)
    clock.move_to(later)
    assert metrics_collect_due(now=later) == 20 - jitters.count(timedelta(0))
    assert set(MetricsSnapshot.objects.values_list("due_at", flat=True)) == {
        NOW + timedelta(hours=1)
    }
    job = jobs[0]
    job.refresh_from_db()
    assert job.metrics_due_at == NOW + METRICS_PLAN[1] + jitters[0]
