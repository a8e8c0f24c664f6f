from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from posts.models import Post
from publishing.dispatch import batches_split
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from scheduling.models import Schedule
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory, schedule_once_at

pytestmark = pytest.mark.django_db


NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def scheduled_post(*, at: datetime, accounts: int = 1) -> Post:
    first = SandboxAccountFactory()
    others = SandboxAccountFactory.create_batch(accounts - 1, workspace=first.workspace)
    post = PostFactory(workspace=first.workspace, accounts=[first, *others])
    schedule_once_at(post, at)
    return post


def test_a_due_schedule_becomes_one_queued_job_per_account(tick, broker_messages):
    post = scheduled_post(at=NOON, accounts=3)
    result = tick(now=NOON)
    jobs = PublishJob.objects.filter(post=post)
    assert (result.materialized, result.queued) == (1, 3)
    assert {job.status for job in jobs} == {S.QUEUED}
    assert {job.occurrence_at for job in jobs} == {NOON}
    # One message carries the batch.
    assert broker_messages("publish") == [
        ("publishing.tasks.publish_jobs", [sorted(job.pk for job in jobs)])
    ]


def test_a_post_is_publishing_from_the_moment_its_jobs_exist(tick, settings):
    settings.KAIROS_MAX_IN_FLIGHT = 0  # every job waits its turn in the database
    post = scheduled_post(at=NOON, accounts=2)
    tick(now=NOON)
    assert set(PublishJob.objects.filter(post=post).values_list("status", flat=True)) == {S.PENDING}
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHING


def test_a_schedule_not_yet_due_is_left_alone(tick, broker_messages):
    post = scheduled_post(at=NOON)
    assert not tick(now=NOON - timedelta(seconds=1))
    assert not PublishJob.objects.filter(post=post).exists()
    assert broker_messages("publish") == []


def test_a_once_schedule_finishes_after_its_occurrence(tick):
    post = scheduled_post(at=NOON)
    tick(now=NOON)
    schedule = Schedule.objects.get(post=post)
    assert schedule.status == Schedule.Status.FINISHED
    assert schedule.next_occurrence_at is None
    assert (schedule.last_occurrence_at, schedule.occurrence_count) == (NOON, 1)


def test_ticking_again_creates_nothing_twice(tick, broker_messages):
    post = scheduled_post(at=NOON, accounts=2)
    tick(now=NOON)
    broker_messages("publish")
    # Even if a schedule were found due again (two beats, a replayed tick), the
    # unique (post, account, occurrence) key makes materialising idempotent.
    Schedule.objects.filter(post=post).update(
        status=Schedule.Status.ACTIVE, next_occurrence_at=NOON
    )
    tick(now=NOON + timedelta(seconds=1))
    assert PublishJob.objects.filter(post=post).count() == 2
    assert broker_messages("publish") == []


def test_a_deleted_post_produces_no_jobs(tick):
    post = scheduled_post(at=NOON)
    Post.objects.filter(pk=post.pk).update(deleted_at=NOON)
    tick(now=NOON)
    assert not PublishJob.objects.filter(post=post).exists()


def test_jobs_are_taken_in_batches_until_none_are_due(tick, broker_messages):
    account = SandboxAccountFactory()
    for n in range(7):
        post = PostFactory(workspace=account.workspace, accounts=[account])
        PublishJobFactory(post=post, account=account, occurrence_at=NOON - timedelta(seconds=n))
    result = tick(now=NOON, batch_size=3)
    assert result.queued == 7
    # Each claim of 3 is sent after its own commit.
    assert [len(job_ids) for _, (job_ids,) in broker_messages("publish")] == [3, 3, 1]


def test_a_retry_waits_for_its_next_attempt_time(tick, broker_messages):
    job = PublishJobFactory(occurrence_at=NOON, next_attempt_at=NOON + timedelta(minutes=2))
    tick(now=NOON + timedelta(minutes=1))
    job.refresh_from_db()
    assert job.status == S.PENDING
    tick(now=NOON + timedelta(minutes=2))
    job.refresh_from_db()
    assert job.status == S.QUEUED


def test_a_job_past_the_missed_window_is_marked_missed_not_sent(tick, broker_messages):
    job = PublishJobFactory(occurrence_at=NOON)
    window = job.post.workspace.missed_post_window
    result = tick(now=NOON + window + timedelta(seconds=1))
    job.refresh_from_db()
    assert (result.missed, job.status) == (1, S.MISSED)
    assert "missed-post window" in job.error_message
    assert broker_messages("publish") == []
    job.post.refresh_from_db()
    assert job.post.status == Post.Status.MISSED


def test_a_queued_job_whose_message_was_lost_is_sent_again(tick, broker_messages, settings):
    job = PublishJobFactory(occurrence_at=NOON)
    tick(now=NOON)
    assert len(broker_messages("publish")) == 1
    # The message vanished (broker flushed); nothing happens until the lease ends.
    assert not tick(now=NOON + settings.KAIROS_QUEUED_LEASE - timedelta(seconds=1))
    result = tick(now=NOON + settings.KAIROS_QUEUED_LEASE)
    job.refresh_from_db()
    assert (result.resent, job.status, job.send_count) == (1, S.QUEUED, 2)
    # The second sending waits twice as long before it counts as lost too.
    assert job.lease_expires_at == NOON + 3 * settings.KAIROS_QUEUED_LEASE
    assert broker_messages("publish") == [("publishing.tasks.publish_jobs", [[job.pk]])]


def test_a_broker_that_refuses_messages_loses_nothing(tick, settings, monkeypatch):
    job = PublishJobFactory(occurrence_at=NOON)
    from config.celery import app

    # Nothing listens on port 1: every send fails at once.
    for key, value in {
        "broker_url": "redis://127.0.0.1:1/0",
        "broker_connection_timeout": 0.2,
        "broker_connection_retry": False,
        "task_publish_retry": False,
    }.items():
        monkeypatch.setitem(app.conf, key, value)
    monkeypatch.setattr(app, "_pool", None)
    tick(now=NOON)
    job.refresh_from_db()
    assert job.status == S.QUEUED
    assert job.lease_expires_at == NOON + settings.KAIROS_QUEUED_LEASE


def test_tick_uses_the_clock_when_not_told_the_time(tick, broker_messages):
    scheduled_post(at=NOON)
    with time_machine.travel(NOON + timedelta(milliseconds=300), tick=False):
        result = tick()
        assert timezone.now() == NOON + timedelta(milliseconds=300)
    assert result.queued == 1


def test_a_job_running_past_its_lease_is_taken_over_for_reconciliation(tick, broker_messages):
    job = PublishJobFactory(
        occurrence_at=NOON, status=S.RUNNING, claim_token=4, lease_expires_at=NOON
    )
    assert not tick(now=NOON - timedelta(seconds=1)).recovered
    result = tick(now=NOON)
    job.refresh_from_db()
    assert result.recovered == 1
    assert (job.status, job.claim_token) == (S.RUNNING, 5)
    assert job.lease_expires_at > NOON
    assert broker_messages("publish") == [("publishing.tasks.reconcile_job", [job.pk, 5])]
    # The new lease keeps the next tick from taking it again.
    assert not tick(now=NOON + timedelta(seconds=1)).recovered


def test_each_message_carries_its_posts_priority(tick, broker_messages):
    urgent = PublishJobFactory(occurrence_at=NOON, priority=0)
    low = PublishJobFactory(occurrence_at=NOON, priority=8)
    tick(now=NOON)
    sent = broker_messages("publish", priorities=True)
    # A message carries jobs of one priority; the most urgent goes first.
    assert [(job_ids, priority) for _, (job_ids,), priority in sent] == [
        ([urgent.pk], 0),
        ([low.pk], 8),
    ]


def test_messages_carry_batches_of_at_most_the_batch_size_split_evenly(
    tick, settings, broker_messages
):
    settings.KAIROS_PUBLISH_BATCH_SIZE = 4
    account = SandboxAccountFactory()
    jobs = [
        PublishJobFactory(
            post=PostFactory(workspace=account.workspace, accounts=[account]),
            account=account,
            occurrence_at=NOON - timedelta(seconds=n),
        )
        for n in range(10)
    ]
    assert tick(now=NOON).queued == 10
    sent = [job_ids for _, (job_ids,) in broker_messages("publish")]
    assert [len(job_ids) for job_ids in sent] == [3, 3, 4]
    # Earliest due first, each job once.
    assert [job_id for job_ids in sent for job_id in job_ids] == [job.pk for job in reversed(jobs)]


@pytest.mark.parametrize(
    ("count", "size", "sizes"),
    [(0, 20, []), (1, 20, [1]), (20, 20, [20]), (21, 20, [10, 11]), (45, 20, [15, 15, 15])],
)
def test_batches_are_split_as_evenly_as_the_size_allows(count, size, sizes):
    batches = batches_split(list(range(count)), size=size)
    assert [len(batch) for batch in batches] == sizes
    assert [item for batch in batches for item in batch] == list(range(count))


def test_a_message_waiting_behind_a_backlog_is_resent_less_and_less(tick, settings):
    job = PublishJobFactory(occurrence_at=NOON)
    tick(now=NOON)
    lease = settings.KAIROS_QUEUED_LEASE
    at, resends = NOON, []
    for _ in range(8):
        job.refresh_from_db()
        at = job.lease_expires_at
        tick(now=at)
        job.refresh_from_db()
        resends.append((job.lease_expires_at - at) / lease)
    # 2, 4, 8, 16, 32 leases, then no longer than 32.
    assert resends == [2, 4, 8, 16, 32, 32, 32, 32]


def test_no_more_than_the_in_flight_window_waits_in_the_broker(tick, settings, broker_messages):
    settings.KAIROS_MAX_IN_FLIGHT = 3
    account = SandboxAccountFactory()
    for n in range(5):
        post = PostFactory(workspace=account.workspace, accounts=[account])
        PublishJobFactory(post=post, account=account, occurrence_at=NOON - timedelta(seconds=n))
    assert tick(now=NOON).queued == 3
    assert [len(job_ids) for _, (job_ids,) in broker_messages("publish")] == [3]
    # Nothing more goes while three wait; once one starts, one more may.
    assert tick(now=NOON + timedelta(seconds=1)).queued == 0
    PublishJob.objects.filter(
        pk=PublishJob.objects.filter(status=S.QUEUED).values("pk")[:1]
    ).update(status=S.RUNNING)
    assert tick(now=NOON + timedelta(seconds=2)).queued == 1
    assert PublishJob.objects.filter(status=S.PENDING).count() == 1
