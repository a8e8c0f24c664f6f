from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from posts.models import Post
from publishing import services
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from publishing.services import _rolled_up, post_status_rollup
from scheduling.models import Schedule
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({S.PUBLISHED}, "published"),
        ({S.PUBLISHED, S.FAILED}, "partially_published"),
        ({S.PUBLISHED, S.CANCELLED}, "partially_published"),
        ({S.PUBLISHED, S.RUNNING}, "publishing"),
        ({S.PENDING}, "publishing"),
        ({S.NEEDS_REVIEW, S.PUBLISHED}, "needs_review"),
        ({S.FAILED}, "failed"),
        ({S.FAILED, S.MISSED}, "failed"),
        ({S.MISSED}, "missed"),
        ({S.CANCELLED}, "cancelled"),
    ],
)
def test_post_status_follows_its_jobs(statuses, expected):
    assert _rolled_up(set(statuses)) == expected


def test_rollup_looks_at_the_latest_occurrence_only():
    post = PostFactory()
    account = SandboxAccountFactory(workspace=post.workspace)
    earlier = timezone.now() - timedelta(days=1)
    PublishJobFactory(post=post, account=account, occurrence_at=earlier, status=S.FAILED)
    PublishJobFactory(post=post, account=account, status=S.PUBLISHED)
    assert post_status_rollup(post_id=post.pk) == Post.Status.PUBLISHED
    assert AuditEvent.objects.filter(action="post.status_changed", to_status="published").exists()


def test_a_roll_up_of_many_posts_settles_each_from_its_own_jobs():
    account = SandboxAccountFactory()
    done, half, waiting, untouched = (PostFactory(workspace=account.workspace) for _ in range(4))
    other = SandboxAccountFactory(workspace=account.workspace)
    PublishJobFactory(post=done, account=account, status=S.PUBLISHED)
    at = timezone.now()
    PublishJobFactory(post=half, account=account, status=S.PUBLISHED, occurrence_at=at)
    PublishJobFactory(post=half, account=other, status=S.FAILED, occurrence_at=at)
    PublishJobFactory(post=waiting, account=account, status=S.QUEUED)
    rolled_up = services.posts_status_rollup(post_ids=[done.pk, half.pk, waiting.pk, untouched.pk])
    assert rolled_up == {
        done.pk: Post.Status.PUBLISHED,
        half.pk: Post.Status.PARTIALLY_PUBLISHED,
        waiting.pk: Post.Status.PUBLISHING,
        untouched.pk: untouched.status,  # no jobs: left as it was
    }
    for post in (done, half, waiting):
        post.refresh_from_db()
        assert post.status == rolled_up[post.pk]
    changes = AuditEvent.objects.filter(action="post.status_changed")
    before = untouched.status  # all four were made alike
    assert sorted(changes.values_list("subject_id", "from_status", "to_status")) == sorted(
        [(str(done.pk), before, "published"), (str(half.pk), before, "partially_published"),
         (str(waiting.pk), before, "publishing")]
    )  # fmt: skip
    assert {event.subject for event in changes} == {done, half, waiting}
    assert {event.workspace_id for event in changes} == {account.workspace_id}
    # Rolling up again changes nothing and records nothing.
    services.posts_status_rollup(post_ids=[done.pk, half.pk, waiting.pk])
    assert changes.count() == 3


def test_cancel_stops_waiting_jobs_and_says_which_it_could_not():
    post = PostFactory()
    accounts = SandboxAccountFactory.create_batch(3, workspace=post.workspace)
    pending = PublishJobFactory(post=post, account=accounts[0])
    queued = PublishJobFactory(post=post, account=accounts[1], status=S.QUEUED)
    running = PublishJobFactory(post=post, account=accounts[2], status=S.RUNNING)
    outcome = services.post_cancel(post=post, actor=None)
    statuses = dict(PublishJob.objects.filter(post=post).values_list("pk", "status"))
    assert statuses == {pending.pk: S.CANCELLED, queued.pk: S.CANCELLED, running.pk: S.RUNNING}
    assert (outcome.cancelled_jobs, outcome.still_running) == (2, 1)
    assert "could not be stopped" in outcome.message()
    # The queued job's message may still arrive; its compare-and-set now loses.
    assert job_execute(job_id=queued.pk) == "not-claimed"


def test_cancel_before_anything_was_materialised_cancels_the_schedule():
    from publishing.plans import schedule_once

    account = SandboxAccountFactory()
    post = PostFactory(workspace=account.workspace, accounts=[account])
    tomorrow = timezone.now() + timedelta(days=1)
    schedule_once(
        post=post,
        local_date=tomorrow.date(),
        local_time=tomorrow.time(),
        timezone_name="UTC",
        actor=None,
    )
    services.post_cancel(post=post, actor=None)
    post.refresh_from_db()
    assert post.status == Post.Status.CANCELLED
    assert post.schedule.status == Schedule.Status.CANCELLED
    assert post.schedule.next_occurrence_at is None


def test_publish_now_makes_a_due_job_per_account_and_ends_the_schedule():
    accounts = SandboxAccountFactory.create_batch(2)
    for account in accounts[1:]:
        account.workspace = accounts[0].workspace
        account.save()
    post = PostFactory(workspace=accounts[0].workspace, accounts=accounts)
    assert services.post_publish_now(post=post, actor=None) == 2
    jobs = PublishJob.objects.filter(post=post)
    assert {job.status for job in jobs} == {S.PENDING}
    assert all(job.next_attempt_at <= timezone.now() for job in jobs)
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHING


def test_publish_now_refuses_a_post_without_accounts():
    post = PostFactory()
    with pytest.raises(ValidationError, match="choose at least one account"):
        services.post_publish_now(post=post, actor=None)
    assert not PublishJob.objects.exists()


@pytest.mark.parametrize("status", [S.FAILED, S.MISSED, S.NEEDS_REVIEW])
def test_retry_sends_one_job_again_leaving_the_others(status):
    job = PublishJobFactory(status=status, occurrence_at=timezone.now() - timedelta(days=2))
    other = PublishJobFactory(post=job.post, status=S.FAILED)
    assert services.job_retry(job=job, actor=None)
    job.refresh_from_db()
    other.refresh_from_db()
    assert (job.status, other.status) == (S.PENDING, S.FAILED)
    # The missed-post window counts again from the moment staff asked.
    assert timezone.now() - job.due_at < timedelta(seconds=5)


def test_retry_refuses_a_published_job():
    job = PublishJobFactory(status=S.PUBLISHED)
    assert not services.job_retry(job=job, actor=None)
