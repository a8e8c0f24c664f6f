import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditEvent, SocialAccount
from accounts.services import social_account_connect
from posts.models import Post
from publishing import execution, networks
from publishing.execution import job_execute, job_reconcile, jobs_execute
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob, RateLimitWindow, SandboxPost
from publishing.networks.base import (
    OPERATOR_WAIT,
    WAITS_FOR_OPERATOR,
    ErrorKind,
    Lookup,
    Presence,
    PublishError,
)
from publishing.networks.sandbox import SandboxAdapter
from publishing.ratelimits import (
    APP_KEY,
    WindowReading,
    account_key,
    rate_limited_until,
    rate_limits_record,
)
from publishing.services import publish_request_build
from publishing.stores import DatabaseStore
from tests.factories import (
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


def queued_job(**kwargs) -> PublishJob:
    return PublishJobFactory(status=S.QUEUED, **kwargs)


class ScriptedNetwork(SandboxAdapter):
    """A stand-in for a remote network: publishes like the sandbox until told to fail."""

    network = "x"

    def __init__(self):
        self.failures: list[PublishError] = []
        self.fail_after_parts: int | None = None
        self.lookup: Lookup | None = None

    def find_part(self, request, *, index, since, store):
        return self.lookup or super().find_part(request, index=index, since=since, store=store)

    def publish(self, request, *, store, on_part_published, on_media_uploaded=None):
        if self.failures:
            raise self.failures.pop(0)
        if self.fail_after_parts is not None:

            def stop_after(index, external_id):
                on_part_published(index, external_id)
                if index + 1 >= self.fail_after_parts:
                    raise PublishError(kind=ErrorKind.NETWORK, message="Connection reset.")

            return super().publish(request, store=store, on_part_published=stop_after)
        return super().publish(request, store=store, on_part_published=on_part_published)


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
    assert job.next_attempt_at >= now + execution.BACKOFF.base
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
    [event] = AuditEvent.objects.filter(action="account.rate_limited")
    assert (event.subject_id, event.data["until"]) == (str(job.account_id), reset.isoformat())


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
    PublishJob.objects.filter(pk=job.pk).update(attempt_count=execution.BACKOFF.max_attempts - 1)
    scripted.failures.append(PublishError(kind=ErrorKind.NETWORK, message="Timed out."))
    assert job_execute(job_id=job.pk) == S.FAILED
    job.refresh_from_db()
    assert (
        job.error_message == f"Gave up after {execution.BACKOFF.max_attempts} attempts: Timed out."
    )


def test_an_answer_that_may_have_been_accepted_is_never_retried_blindly(scripted, settings):
    job = scripted_job()
    scripted.failures.append(
        PublishError(kind=ErrorKind.NETWORK, message="Read timed out.", maybe_accepted=True)
    )
    with time_machine.travel(timezone.now(), tick=False):
        assert job_execute(job_id=job.pk) == S.RUNNING
        job.refresh_from_db()
        # Still running, with a short lease: the sweeper reconciles when it ends.
        assert job.lease_expires_at == timezone.now() + settings.KAIROS_RECONCILE_DELAY
    assert job.attempts.get().outcome == PublishAttempt.Outcome.UNCERTAIN
    assert job.error_message == "Read timed out."


def test_an_unexpected_exception_counts_as_an_unknown_outcome(scripted, monkeypatch):
    job = scripted_job()

    def explode(request, **callbacks):
        raise KeyError("data")

    monkeypatch.setattr(scripted, "publish", explode)
    assert job_execute(job_id=job.pk) == S.RUNNING
    job.refresh_from_db()
    assert job.error_kind == ErrorKind.UNKNOWN
    assert job.attempts.get().outcome == PublishAttempt.Outcome.UNCERTAIN


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

    def recovered_mid_call(request, *, store, on_part_published, on_media_uploaded=None):
        # The sweeper took the job over (as after a lease timeout): a new claim.
        PublishJob.objects.filter(pk=job.pk).update(claim_token=F("claim_token") + 1)
        return original(request, store=store, on_part_published=on_part_published)

    monkeypatch.setattr(scripted, "publish", recovered_mid_call)
    assert job_execute(job_id=job.pk) == "claim-lost"
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
    [event] = AuditEvent.objects.filter(action="job.missed")
    assert (event.subject_id, event.to_status, event.workspace_id) == (
        str(job.pk),
        S.MISSED,
        job.post.workspace_id,
    )
    assert "missed-post window" in event.message


def test_a_spent_rate_limit_defers_the_job_without_calling_the_network(scripted):
    job = scripted_job()
    reset = timezone.now() + timedelta(minutes=9)
    rate_limits_record(
        network="x",
        readings=[
            WindowReading(
                key=account_key(job.account_id),
                endpoint="post",
                window="15m",
                limit=100,
                remaining=0,
                resets_at=reset,
            )
        ],
        now=timezone.now(),
    )
    scripted.failures.append(PublishError(kind=ErrorKind.SERVER, message="must not be called"))
    assert job_execute(job_id=job.pk) == "not-claimed"
    job.refresh_from_db()
    assert (job.status, job.next_attempt_at, job.attempt_count) == (S.PENDING, reset, 0)
    assert not job.attempts.exists()
    assert scripted.failures, "the network was called"


def test_the_latest_reset_among_spent_windows_wins(scripted):
    job = scripted_job()
    now = timezone.now()
    soon, tomorrow = now + timedelta(minutes=5), now + timedelta(hours=20)
    rate_limits_record(
        network="x",
        readings=[
            WindowReading(account_key(job.account_id), "post", "15m", 100, 0, soon),
            WindowReading(APP_KEY, "post", "24h", 10_000, 0, tomorrow),
            WindowReading(account_key(job.account_id), "post", "24h", 100, 40, tomorrow),
        ],
        now=now,
    )
    assert (
        rate_limited_until(network="x", account_id=job.account_id, endpoint="post", now=now)
        == tomorrow
    )
    # A window that reset already, or one with requests left, holds nothing back.
    assert (
        rate_limited_until(network="x", account_id=job.account_id, endpoint="post", now=tomorrow)
        is None
    )


def test_a_rate_limited_attempt_spends_no_retry_budget(scripted):
    job = scripted_job()
    PublishJob.objects.filter(pk=job.pk).update(attempt_count=execution.BACKOFF.max_attempts + 3)
    reset = timezone.now() + timedelta(hours=1)
    scripted.failures.append(
        PublishError(kind=ErrorKind.RATE_LIMITED, message="429", retry_at=reset)
    )
    assert job_execute(job_id=job.pk) == S.PENDING
    job.refresh_from_db()
    assert job.next_attempt_at == reset


def test_a_setting_only_an_operator_can_mend_holds_the_job_without_spending_attempts(
    scripted,
):
    job = scripted_job()
    PublishJob.objects.filter(pk=job.pk).update(attempt_count=execution.BACKOFF.max_attempts + 3)
    scripted.failures.append(
        PublishError(
            kind=ErrorKind.UNKNOWN,
            message="The network no longer takes this API version.",
            http_status=426,
            details={WAITS_FOR_OPERATOR: True},
        )
    )
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert job_execute(job_id=job.pk) == S.PENDING
    job.refresh_from_db()
    assert job.next_attempt_at == now + OPERATOR_WAIT
    assert job.error_message == "The network no longer takes this API version."
    # Once the operator mends it, the next try (queued again by dispatch) publishes.
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    with time_machine.travel(job.next_attempt_at, tick=False):
        assert job_execute(job_id=job.pk) == S.PUBLISHED


# --- Reconciliation ---------------------------------------------------------------------


def cut_short(job: PublishJob) -> int:
    """Leave the job as a killed worker would (running, attempt open) and take it over."""
    job.refresh_from_db()
    PublishJob.objects.filter(pk=job.pk).update(
        status=S.RUNNING,
        attempt_count=F("attempt_count") + 1,
        claim_token=F("claim_token") + 2,
        lease_expires_at=timezone.now(),
    )
    job.refresh_from_db()
    PublishAttempt.objects.create(
        job=job, number=job.attempt_count, started_at=timezone.now() - timedelta(seconds=5)
    )
    return job.claim_token


def test_reconcile_finds_the_post_that_went_out_and_publishes_the_job():
    job = queued_job()
    SandboxAdapter().publish(
        publish_request_build(job=job),
        store=DatabaseStore(network="sandbox"),
        on_part_published=lambda *a: None,
    )
    token = cut_short(job)
    assert job_reconcile(job_id=job.pk, token=token) == S.PUBLISHED
    job.refresh_from_db()
    assert job.status == S.PUBLISHED
    assert job.external_url.endswith(f"/{job.external_id}/")
    assert SandboxPost.objects.count() == 1
    attempt = job.attempts.get()
    assert attempt.outcome == PublishAttempt.Outcome.SUCCESS
    assert attempt.error_message == (
        "The worker stopped during the attempt; checking the network. "
        "Reconciliation found the post on the network."
    )


def test_reconcile_retries_when_the_post_is_surely_absent():
    job = queued_job()
    token = cut_short(job)
    assert job_reconcile(job_id=job.pk, token=token) == S.PENDING
    job.refresh_from_db()
    assert job.next_attempt_at <= timezone.now()
    # The retry goes out once.
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    assert SandboxPost.objects.count() == 1


def test_reconcile_asks_again_then_leaves_an_unanswerable_job_to_staff(scripted, settings):
    job = scripted_job()
    scripted.lookup = Lookup(presence=Presence.UNKNOWN, reason="the look-up answered 503")
    for tries in range(1, execution.RECONCILE_TRIES):
        token = cut_short_again(job)
        assert job_reconcile(job_id=job.pk, token=token) == S.RUNNING
        job.refresh_from_db()
        assert job.reconcile_count == tries
        assert job.lease_expires_at > timezone.now() + settings.KAIROS_RECONCILE_DELAY
    token = cut_short_again(job)
    assert job_reconcile(job_id=job.pk, token=token) == S.NEEDS_REVIEW
    job.refresh_from_db()
    assert "could not say whether the post went out (the look-up answered 503)" in (
        job.error_message
    )
    job.post.refresh_from_db()
    assert job.post.status == Post.Status.NEEDS_REVIEW
    [event] = AuditEvent.objects.filter(action="job.needs_review")
    assert (event.subject_id, event.from_status) == (str(job.pk), S.RUNNING)


def cut_short_again(job: PublishJob) -> int:
    if not job.attempts.exists():
        return cut_short(job)
    PublishJob.objects.filter(pk=job.pk).update(
        claim_token=F("claim_token") + 1, lease_expires_at=timezone.now()
    )
    job.refresh_from_db()
    return job.claim_token


def test_reconcile_resumes_a_thread_after_the_part_found():
    post = PostFactory(texts=["one", "two", "three"])
    job = queued_job(post=post, account=SandboxAccountFactory(workspace=post.workspace))
    request = publish_request_build(job=job)
    sandbox = DatabaseStore(network="sandbox").sandbox_posts
    # The worker posted part 1 (and saved it), posted part 2, and died before saving it.
    made = {
        "account_id": job.account_id,
        "idempotency_key": f"{request.idempotency_key}:0",
        "text": "one",
        "reply_to_id": None,
    }
    first = sandbox.create(**made)
    sandbox.create(**{**made, "idempotency_key": f"{request.idempotency_key}:1", "text": "two"})
    PublishJob.objects.filter(pk=job.pk).update(part_external_ids=[first])
    token = cut_short(job)
    assert job_reconcile(job_id=job.pk, token=token) == S.PENDING
    job.refresh_from_db()
    assert len(job.part_external_ids) == 2
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    texts = [SandboxPost.objects.get(pk=pk).text for pk in job.part_external_ids]
    assert texts == ["one", "two", "three"]
    assert SandboxPost.objects.count() == 3


def test_a_stale_reconciliation_does_nothing():
    job = queued_job()
    token = cut_short(job)
    PublishJob.objects.filter(pk=job.pk).update(claim_token=F("claim_token") + 1)
    assert job_reconcile(job_id=job.pk, token=token) == "not-claimed"
    job.refresh_from_db()
    assert job.status == S.RUNNING


def test_a_duplicate_refusal_after_an_uncertain_attempt_is_reconciled_not_failed(scripted):
    job = scripted_job()
    scripted.failures += [
        PublishError(kind=ErrorKind.NETWORK, message="Connection reset.", maybe_accepted=True),
        PublishError(kind=ErrorKind.DUPLICATE, message="Duplicate content."),
    ]
    assert job_execute(job_id=job.pk) == S.RUNNING
    PublishJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.RUNNING
    job.refresh_from_db()
    assert job.error_kind == ErrorKind.DUPLICATE


def test_a_duplicate_refusal_out_of_the_blue_fails_the_job(scripted):
    job = scripted_job()
    scripted.failures.append(PublishError(kind=ErrorKind.DUPLICATE, message="Duplicate."))
    assert job_execute(job_id=job.pk) == S.FAILED


# --- Batches ------------------------------------------------------------------------------


def sandbox_batch(count: int) -> list[PublishJob]:
    account = SandboxAccountFactory()
    return [
        queued_job(post=PostFactory(workspace=account.workspace), account=account)
        for _ in range(count)
    ]


def test_a_batch_publishes_every_job_once_each_with_its_attempt():
    jobs = sandbox_batch(5)
    outcomes = jobs_execute(job_ids=[job.pk for job in jobs])
    assert outcomes == {job.pk: S.PUBLISHED for job in jobs}
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.attempt_count) == (S.PUBLISHED, 1)
        assert job.part_external_ids == [job.external_id]
        assert SandboxPost.objects.get(pk=job.external_id).idempotency_key == (
            f"kairos-job-{job.pk}:0"
        )
        attempt = job.attempts.get()
        assert attempt.outcome == PublishAttempt.Outcome.SUCCESS
        assert attempt.duration_ms is not None
    assert set(Post.objects.values_list("status", flat=True)) == {Post.Status.PUBLISHED}
    # Each post's change of status is audited (the tick made none publishing here).
    assert (
        AuditEvent.objects.filter(action="post.status_changed", to_status="published").count() == 5
    )


def test_a_batch_costs_the_database_the_same_however_many_jobs_it_carries():
    def queries_for(count: int) -> int:
        jobs = sandbox_batch(count)
        with CaptureQueriesContext(connection) as captured:
            jobs_execute(job_ids=[job.pk for job in jobs])
        # The sandbox writes its posts into our database (in savepoints of its own):
        # those statements are the network's, one set per post wherever it lives.
        return len(
            [
                query
                for query in captured
                if "publishing_sandboxpost" not in query["sql"] and "SAVEPOINT" not in query["sql"]
            ]
        )

    queries_for(1)  # warms the content-type cache the audit trail uses
    assert queries_for(10) == queries_for(2)


def test_a_batch_runs_only_the_jobs_that_are_its_to_run():
    ready, cancelled, taken, late = sandbox_batch(4)
    PublishJob.objects.filter(pk=cancelled.pk).update(status=S.CANCELLED)
    PublishJob.objects.filter(pk=taken.pk).update(status=S.RUNNING)
    late_by = late.post.workspace.missed_post_window + timedelta(minutes=1)
    PublishJob.objects.filter(pk=late.pk).update(due_at=timezone.now() - late_by)
    outcomes = jobs_execute(job_ids=[ready.pk, cancelled.pk, taken.pk, late.pk])
    assert outcomes == {
        ready.pk: S.PUBLISHED,
        cancelled.pk: "not-claimed",
        taken.pk: "not-claimed",
        late.pk: "not-claimed",
    }
    late.refresh_from_db()
    assert late.status == S.MISSED
    assert SandboxPost.objects.count() == 1


def test_one_failure_in_a_batch_leaves_the_others_published(scripted):
    account = SandboxAccountFactory(network=SocialAccount.Network.X)
    jobs = [
        queued_job(post=PostFactory(workspace=account.workspace), account=account) for _ in range(3)
    ]
    original = scripted.publish

    def second_fails(request, **callbacks):
        if request.idempotency_key == f"kairos-job-{jobs[1].pk}":
            raise PublishError(kind=ErrorKind.SERVER, message="503", http_status=503)
        return original(request, **callbacks)

    scripted.publish = second_fails
    outcomes = jobs_execute(job_ids=[job.pk for job in jobs])
    assert outcomes == {jobs[0].pk: S.PUBLISHED, jobs[1].pk: S.PENDING, jobs[2].pk: S.PUBLISHED}
    attempt = jobs[1].attempts.get()
    assert (attempt.outcome, attempt.http_status) == (PublishAttempt.Outcome.RETRY, 503)


def test_a_job_taken_from_a_batch_mid_way_is_left_to_its_new_holder(scripted):
    account = SandboxAccountFactory(network=SocialAccount.Network.X)
    first, second = (
        queued_job(post=PostFactory(workspace=account.workspace), account=account) for _ in range(2)
    )
    original = scripted.publish

    def sweeper_takes_the_first(request, **callbacks):
        # While the batch publishes, the sweeper takes over the first job (a new claim).
        PublishJob.objects.filter(pk=first.pk).update(claim_token=F("claim_token") + 1)
        return original(request, **callbacks)

    scripted.publish = sweeper_takes_the_first
    outcomes = jobs_execute(job_ids=[first.pk, second.pk])
    assert outcomes == {first.pk: "claim-lost", second.pk: S.PUBLISHED}
    first.refresh_from_db()
    # Nothing of this worker's attempt is written over the new holder's.
    assert (first.status, first.external_id) == (S.RUNNING, "")


def test_a_batch_out_of_time_hands_back_the_jobs_it_did_not_try(scripted, monkeypatch, settings):
    settings.KAIROS_TASK_TIME_LIMIT = 120
    account = SandboxAccountFactory(network=SocialAccount.Network.X)
    jobs = [
        queued_job(post=PostFactory(workspace=account.workspace), account=account) for _ in range(3)
    ]
    clock = {"now": 0.0}
    monkeypatch.setattr(execution, "time", SimpleNamespace(monotonic=lambda: clock["now"]))
    original = scripted.publish

    def slow(request, **callbacks):
        clock["now"] += 100  # past half the time limit
        return original(request, **callbacks)

    scripted.publish = slow
    outcomes = jobs_execute(job_ids=[job.pk for job in jobs])
    assert outcomes == {jobs[0].pk: S.PUBLISHED, jobs[1].pk: S.PENDING, jobs[2].pk: S.PENDING}
    assert SandboxPost.objects.count() == 1
    for job in jobs[1:]:
        job.refresh_from_db()
        assert job.next_attempt_at <= timezone.now()
        assert job.error_message == execution.UNTRIED_MESSAGE
        assert job.attempts.get().outcome == PublishAttempt.Outcome.RETRY


def test_a_batch_defers_only_the_jobs_of_a_rate_limited_account(scripted):
    limited, free = SandboxAccountFactory.create_batch(2, network=SocialAccount.Network.X)
    held = queued_job(post=PostFactory(workspace=limited.workspace), account=limited)
    goes = queued_job(post=PostFactory(workspace=free.workspace), account=free)
    reset = timezone.now() + timedelta(minutes=9)
    rate_limits_record(
        network="x",
        readings=[WindowReading(account_key(limited.pk), "post", "15m", 100, 0, reset)],
        now=timezone.now(),
    )
    outcomes = jobs_execute(job_ids=[held.pk, goes.pk])
    assert outcomes == {held.pk: "not-claimed", goes.pk: S.PUBLISHED}
    held.refresh_from_db()
    assert (held.status, held.next_attempt_at) == (S.PENDING, reset)


def test_a_batch_for_a_remote_network_goes_out_side_by_side(x):
    # Each answer takes a second; one after the other, three would take three.
    x.control.set_fault_rates(
        {"latency": 1.0}, latency_ms=1000, method="POST", path_prefix="/2/tweets"
    )
    workspace = WorkspaceFactory()
    jobs = []
    for number in range(3):
        user = x.control.create_connected_user(username=f"brand{number}")
        account = social_account_connect(
            network="x",
            workspace=workspace,
            external_id=user.id,
            handle=user.username,
            credentials={"access_token": user.access_token},
        )
        post = PostFactory(workspace=workspace, texts=[f"Side by side {number}"])
        jobs.append(queued_job(post=post, account=account))
    started = time.monotonic()
    outcomes = jobs_execute(job_ids=[job.pk for job in jobs])
    assert time.monotonic() - started < 2.5
    assert outcomes == {job.pk: S.PUBLISHED for job in jobs}
    assert sorted(post["submitted_text"] for post in x.control.posts()) == [
        f"Side by side {number}" for number in range(3)
    ]
    # The readings the threads saw were written once the batch was done.
    assert RateLimitWindow.objects.filter(key__in=[account_key(j.account_id) for j in jobs]).count()
