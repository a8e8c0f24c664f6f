from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent, SocialAccount
from posts.models import Post
from publishing import networks, services
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob, SandboxPost
from publishing.networks.base import ErrorKind, PublishError
from publishing.networks.sandbox import SandboxAdapter
from publishing.services import _rolled_up, job_execute, post_status_rollup
from scheduling.models import Schedule
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db


def queued_job(**kwargs) -> PublishJob:
    return PublishJobFactory(status=S.QUEUED, **kwargs)


class ScriptedNetwork(SandboxAdapter):
    """A stand-in for a remote network: publishes like the sandbox until told to fail."""

    network = "x"

    def __init__(self):
        self.failures: list[PublishError] = []
        self.fail_after_parts: int | None = None

    def publish(self, request, *, on_part_published):
        if self.failures:
            raise self.failures.pop(0)
        if self.fail_after_parts is not None:

            def stop_after(index, external_id):
                on_part_published(index, external_id)
                if index + 1 >= self.fail_after_parts:
                    raise PublishError(kind=ErrorKind.NETWORK, message="Connection reset.")

            return super().publish(request, on_part_published=stop_after)
        return super().publish(request, on_part_published=on_part_published)


@pytest.fixture
def scripted(monkeypatch):
    adapter = ScriptedNetwork()
    monkeypatch.setitem(networks._ADAPTERS, "x", adapter)
    return adapter


def scripted_job(**kwargs) -> PublishJob:
    account = SandboxAccountFactory(network=SocialAccount.Network.X)
    post = PostFactory(workspace=account.workspace, **kwargs)
    return queued_job(post=post, account=account)


def test_a_queued_job_is_published_and_the_attempt_recorded():
    job = queued_job()
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    assert job.status == S.PUBLISHED
    assert job.external_url.endswith(f"/sandbox/{job.account.handle}/{job.external_id}/")
    attempt = job.attempts.get()
    assert (attempt.number, attempt.outcome) == (1, PublishAttempt.Outcome.SUCCESS)
    assert attempt.finished_at is not None
    assert attempt.worker
    job.post.refresh_from_db()
    assert job.post.status == Post.Status.PUBLISHED


def test_a_thread_goes_out_in_order_each_part_replying_to_the_one_before():
    post = PostFactory(texts=["one", "two", "three"])
    account = SandboxAccountFactory(workspace=post.workspace)
    job = queued_job(post=post, account=account)
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    posts = [SandboxPost.objects.get(pk=pk) for pk in job.part_external_ids]
    assert [p.text for p in posts] == ["one", "two", "three"]
    assert [p.in_reply_to_id for p in posts] == [None, posts[0].pk, posts[1].pk]
    assert job.external_id == str(posts[0].pk)


def test_a_per_account_text_replaces_the_first_part():
    job = queued_job()
    job.post.targets.filter(account=job.account).update(text_override="Bonjour")
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert SandboxPost.objects.get(pk=job.external_id).text == "Bonjour"


def test_a_job_not_queued_is_not_run():
    job = PublishJobFactory(status=S.CANCELLED)
    assert job_execute(job_id=job.pk) == "not-claimed"
    assert not job.attempts.exists()


def test_a_second_delivery_of_the_same_message_publishes_nothing_more():
    job = queued_job()
    job_execute(job_id=job.pk)
    assert job_execute(job_id=job.pk) == "not-claimed"
    assert SandboxPost.objects.count() == 1
    assert job.attempts.count() == 1


def test_content_the_network_refuses_fails_without_calling_it():
    job = queued_job()
    job.post.parts.update(text="x" * 5001)
    assert job_execute(job_id=job.pk) == S.FAILED
    job.refresh_from_db()
    assert job.error_kind == ErrorKind.VALIDATION
    assert "at most 5000" in job.error_message
    assert not SandboxPost.objects.exists()


def test_a_retryable_error_sends_the_job_back_to_wait(scripted):
    job = scripted_job()
    scripted.failures.append(PublishError(kind=ErrorKind.SERVER, message="503", http_status=503))
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        assert job_execute(job_id=job.pk) == S.PENDING
    job.refresh_from_db()
    assert job.next_attempt_at >= now + services.BACKOFF.base
    attempt = job.attempts.get()
    assert (attempt.outcome, attempt.error_kind, attempt.http_status) == ("retry", "server", 503)


def test_a_rate_limit_waits_for_the_reset_the_network_named(scripted):
    job = scripted_job()
    reset = timezone.now() + timedelta(minutes=15)
    scripted.failures.append(
        PublishError(kind=ErrorKind.RATE_LIMITED, message="429", retry_at=reset)
    )
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.next_attempt_at) == (S.PENDING, reset)


@pytest.mark.parametrize(
    "kind",
    [
        ErrorKind.VALIDATION,
        ErrorKind.DUPLICATE,
        ErrorKind.FORBIDDEN,
        ErrorKind.BILLING,
        ErrorKind.AUTH_EXPIRED,
        ErrorKind.UNKNOWN,
    ],
)
def test_a_permanent_error_fails_the_job_with_the_networks_words(scripted, kind):
    job = scripted_job()
    scripted.failures.append(PublishError(kind=kind, message="X refused the post."))
    assert job_execute(job_id=job.pk) == S.FAILED
    job.refresh_from_db()
    assert (job.error_kind, job.error_message) == (kind, "X refused the post.")
    job.post.refresh_from_db()
    assert job.post.status == Post.Status.FAILED


def test_retries_stop_after_the_last_attempt(scripted):
    job = scripted_job()
    PublishJob.objects.filter(pk=job.pk).update(attempt_count=services.BACKOFF.max_attempts - 1)
    scripted.failures.append(PublishError(kind=ErrorKind.NETWORK, message="Timed out."))
    assert job_execute(job_id=job.pk) == S.FAILED
    job.refresh_from_db()
    assert (
        job.error_message == f"Gave up after {services.BACKOFF.max_attempts} attempts: Timed out."
    )


def test_an_answer_that_may_have_been_accepted_is_never_retried_blindly(scripted):
    job = scripted_job()
    scripted.failures.append(
        PublishError(kind=ErrorKind.NETWORK, message="Read timed out.", maybe_accepted=True)
    )
    assert job_execute(job_id=job.pk) == S.NEEDS_REVIEW
    job.refresh_from_db()
    assert "may have published it" in job.error_message
    assert job.attempts.get().outcome == PublishAttempt.Outcome.UNCERTAIN
    job.post.refresh_from_db()
    assert job.post.status == Post.Status.NEEDS_REVIEW


def test_an_unexpected_exception_counts_as_an_unknown_outcome(scripted, monkeypatch):
    job = scripted_job()

    def explode(request, *, on_part_published):
        raise KeyError("data")

    monkeypatch.setattr(scripted, "publish", explode)
    assert job_execute(job_id=job.pk) == S.NEEDS_REVIEW
    job.refresh_from_db()
    assert job.error_kind == ErrorKind.UNKNOWN


def test_a_half_posted_thread_resumes_from_the_next_part(scripted):
    job = scripted_job(texts=["one", "two", "three"])
    scripted.fail_after_parts = 2
    assert job_execute(job_id=job.pk) == S.PENDING
    job.refresh_from_db()
    assert len(job.part_external_ids) == 2
    scripted.fail_after_parts = None
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    texts = [SandboxPost.objects.get(pk=pk).text for pk in job.part_external_ids]
    assert texts == ["one", "two", "three"]
    assert SandboxPost.objects.count() == 3


def test_a_worker_whose_lease_was_taken_stops_and_records_nothing(scripted, monkeypatch):
    job = scripted_job(texts=["one", "two"])
    original = scripted.publish

    def recovered_mid_call(request, *, on_part_published):
        # Recovery took the job (as after a lease timeout) and a new attempt began.
        PublishJob.objects.filter(pk=job.pk).update(attempt_count=5)
        return original(request, on_part_published=on_part_published)

    monkeypatch.setattr(scripted, "publish", recovered_mid_call)
    assert job_execute(job_id=job.pk) == "lease-lost"
    job.refresh_from_db()
    assert job.status == S.RUNNING
    assert job.part_external_ids == []


def test_a_queued_job_that_waited_past_the_window_is_missed_not_sent():
    job = queued_job()
    late = job.due_at + job.post.workspace.missed_post_window + timedelta(seconds=1)
    with time_machine.travel(late):
        assert job_execute(job_id=job.pk) == "not-claimed"
    job.refresh_from_db()
    assert job.status == S.MISSED
    assert not SandboxPost.objects.exists()


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
    from scheduling.services import schedule_once

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
