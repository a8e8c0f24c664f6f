"""Publishing actions: one attempt of a job, and what staff may do to posts and jobs.

Locking rules, in one place:

* A job's status moves only by compare-and-set (`states.job_transition`). The
  loser of a race updates zero rows and backs off; nothing else is locked for it.
* A running job's bookkeeping (its thread part ids, its outcome) is written with
  the attempt number in the compare-and-set, so a worker whose job was recovered
  from under it cannot overwrite what the recovery decided.
* A post's status is derived from its jobs. The roll-up locks the post row
  (`SELECT … FOR UPDATE`) before reading the jobs, so two jobs finishing at once
  roll up one after the other and the last word is computed from both outcomes.
  Lock order is always job row(s), then post row.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.models import SocialAccount
from accounts.services import audit_record
from posts.models import Post, Target
from publishing.backoff import BackoffSchedule
from publishing.models import JobStatus, PublishAttempt, PublishJob
from publishing.networks import adapter_for
from publishing.networks.base import (
    ErrorKind,
    PartContent,
    PublishError,
    PublishRequest,
    PublishResult,
)
from publishing.states import ACTIVE, job_transition
from scheduling.models import Schedule

logger = logging.getLogger(__name__)

S = JobStatus
BACKOFF = BackoffSchedule()
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


# --- Content ------------------------------------------------------------------------


def post_content_for(*, post: Post, target: Target) -> tuple[PartContent, ...]:
    """The parts as this target's account receives them (its own text replaces part 1)."""
    parts = list(post.parts.prefetch_related("media"))
    content = [PartContent(text=part.text, media=tuple(part.media.all())) for part in parts]
    if content and target.text_override:
        content[0] = PartContent(text=target.text_override, media=content[0].media)
    return tuple(content)


def post_problems(*, post: Post) -> list[str]:
    """Everything that stops this post from being published, as sentences to act on."""
    problems = []
    if post.deleted_at is not None:
        problems.append("The post is deleted; restore it first.")
    if not post.parts.exists():
        problems.append("The post has no text; write at least one part.")
    targets = list(post.targets.select_related("account"))
    if not targets:
        problems.append("The post has no accounts; choose at least one account to publish to.")
    for target in targets:
        account = target.account
        if account.workspace_id != post.workspace_id:
            problems.append(f"{account} belongs to another workspace.")
            continue
        if account.status != SocialAccount.Status.ACTIVE:
            problems.append(f"{account} is {account.get_status_display().lower()}.")
        adapter = adapter_for(account.network)
        content = post_content_for(post=post, target=target)
        problems += [f"{account}: {p}" for p in adapter.validate(account=account, parts=content)]
    return problems


def publish_request_build(*, job: PublishJob) -> PublishRequest:
    target = Target.objects.get(post_id=job.post_id, account_id=job.account_id)
    return PublishRequest(
        account=job.account,
        parts=post_content_for(post=job.post, target=target),
        idempotency_key=f"kairos-job-{job.pk}",
        published_part_ids=tuple(job.part_external_ids),
    )


# --- One attempt ----------------------------------------------------------------------


def job_is_missed(*, due_at: datetime, window, now: datetime) -> bool:
    return now - due_at > window


def job_missed_message(window) -> str:
    return (
        f"Could not start within the workspace's missed-post window ({window}) after its "
        "time, so it was not sent late. Publish it now if it is still wanted."
    )


def job_start(*, job_id: int, now: datetime) -> tuple[PublishJob, PublishAttempt] | None:
    """queued → running, with the attempt committed as intent before any network call.

    Returns None when the job is not ours to run: another worker claimed it, staff
    cancelled it, or it waited past the missed-post window (then it becomes missed).
    """
    with transaction.atomic(durable=True):
        job = (
            PublishJob.objects.select_related("post__workspace", "account")
            .filter(pk=job_id, status=S.QUEUED)
            .first()
        )
        if job is None:
            return None
        window = job.post.workspace.missed_post_window
        if job_is_missed(due_at=job.due_at, window=window, now=now):
            if job_transition(
                job_ids=[job.pk],
                from_statuses=[S.QUEUED],
                to_status=S.MISSED,
                now=now,
                lease_expires_at=None,
                error_message=job_missed_message(window),
            ):
                post_status_rollup(post_id=job.post_id)
            return None
        claimed = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.QUEUED],
            to_status=S.RUNNING,
            now=now,
            attempt_count=F("attempt_count") + 1,
            lease_expires_at=now + settings.KAIROS_RUNNING_LEASE,
        )
        if not claimed:
            return None
        job.refresh_from_db(fields=["status", "attempt_count", "lease_expires_at"])
        attempt = PublishAttempt.objects.create(
            job=job, number=job.attempt_count, started_at=now, worker=WORKER_NAME
        )
        post_status_rollup(post_id=job.post_id)
    return job, attempt


class LeaseLost(Exception):
    """The job was taken from this worker (its lease ran out); stop touching it."""


def job_record_part(*, job: PublishJob, attempt: PublishAttempt, index: int, external_id: str):
    """Save one thread segment's id as soon as it is on the network."""
    part_ids = [*job.part_external_ids[:index], external_id]
    saved = PublishJob.objects.filter(
        pk=job.pk, status=S.RUNNING, attempt_count=attempt.number
    ).update(part_external_ids=part_ids, updated_at=timezone.now())
    if not saved:
        raise LeaseLost(f"Job {job.pk} is no longer running attempt {attempt.number}.")
    job.part_external_ids = part_ids


def _attempt_finish(
    attempt: PublishAttempt,
    *,
    outcome: str,
    now: datetime,
    duration_ms: int,
    error: PublishError | None = None,
) -> None:
    attempt.outcome = outcome
    attempt.finished_at = now
    attempt.duration_ms = duration_ms
    if error is not None:
        attempt.error_kind = error.kind
        attempt.error_message = error.message
        attempt.http_status = error.http_status
        attempt.request_id = error.request_id
    attempt.save()


def job_record_success(
    *,
    job: PublishJob,
    attempt: PublishAttempt,
    result: PublishResult,
    now: datetime,
    duration_ms: int,
) -> bool:
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.RUNNING],
            to_status=S.PUBLISHED,
            now=now,
            extra=Q(attempt_count=attempt.number),
            external_id=result.external_id,
            external_url=result.url,
            part_external_ids=list(result.part_ids),
            published_at=now,
            lease_expires_at=None,
            error_kind="",
            error_message="",
        )
        _attempt_finish(
            attempt, outcome=PublishAttempt.Outcome.SUCCESS, now=now, duration_ms=duration_ms
        )
        if moved:
            post_status_rollup(post_id=job.post_id)
        else:
            logger.warning("job %s published as %s after losing its lease", job.pk, result.url)
    return bool(moved)


def job_record_failure(
    *,
    job: PublishJob,
    attempt: PublishAttempt,
    error: PublishError,
    now: datetime,
    duration_ms: int,
) -> str:
    """Decide from the error's kind what becomes of the job; return its new status."""
    fields = {"lease_expires_at": None, "error_kind": error.kind, "error_message": error.message}
    if error.maybe_accepted:
        # The network may have made the post. Retrying blindly could post twice, so
        # a person decides (the guarantee work adds automatic reconciliation here).
        to_status, outcome = S.NEEDS_REVIEW, PublishAttempt.Outcome.UNCERTAIN
        fields["error_message"] = (
            f"{error.message} The network may have published it: check the account, then "
            "mark the job as published or retry it."
        )
    elif error.kind.retryable and (
        retry_at := BACKOFF.next_attempt_at(
            attempt=attempt.number, now=now, not_before=error.retry_at
        )
    ):
        to_status, outcome = S.PENDING, PublishAttempt.Outcome.RETRY
        fields["next_attempt_at"] = retry_at
    else:
        to_status, outcome = S.FAILED, PublishAttempt.Outcome.FAILED
        if error.kind.retryable:
            fields["error_message"] = f"Gave up after {attempt.number} attempts: {error.message}"
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.RUNNING],
            to_status=to_status,
            now=now,
            extra=Q(attempt_count=attempt.number),
            **fields,
        )
        _attempt_finish(attempt, outcome=outcome, now=now, duration_ms=duration_ms, error=error)
        if moved:
            post_status_rollup(post_id=job.post_id)
    return to_status


def job_execute(*, job_id: int) -> str:
    """Run one attempt of a queued job: claim, publish, record. Returns what happened."""
    started = job_start(job_id=job_id, now=timezone.now())
    if started is None:
        return "not-claimed"
    job, attempt = started
    adapter = adapter_for(job.account.network)
    request = publish_request_build(job=job)
    clock = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - clock) * 1000)

    problems = adapter.validate(account=job.account, parts=request.parts)
    if problems:
        error = PublishError(kind=ErrorKind.VALIDATION, message=" ".join(problems))
        return job_record_failure(
            job=job, attempt=attempt, error=error, now=timezone.now(), duration_ms=0
        )
    try:
        result = adapter.publish(
            request,
            on_part_published=lambda index, external_id: job_record_part(
                job=job, attempt=attempt, index=index, external_id=external_id
            ),
        )
    except LeaseLost:
        logger.warning("job %s: lease lost mid-publish; leaving it to recovery", job.pk)
        return "lease-lost"
    except PublishError as error:
        return job_record_failure(
            job=job, attempt=attempt, error=error, now=timezone.now(), duration_ms=elapsed_ms()
        )
    except Exception as exc:
        # A fault of ours or an answer nobody foresaw, after the request may have
        # gone out: treat the outcome as unknown, never as a plain failure to retry.
        logger.exception("job %s: unexpected error while publishing", job.pk)
        error = PublishError(
            kind=ErrorKind.UNKNOWN,
            message=f"Unexpected error: {type(exc).__name__}.",
            maybe_accepted=True,
        )
        return job_record_failure(
            job=job, attempt=attempt, error=error, now=timezone.now(), duration_ms=elapsed_ms()
        )
    job_record_success(
        job=job, attempt=attempt, result=result, now=timezone.now(), duration_ms=elapsed_ms()
    )
    return S.PUBLISHED


# --- A post's status from its jobs ---------------------------------------------------


def _rolled_up(statuses: set[str]) -> str:
    if statuses & ACTIVE:
        return Post.Status.PUBLISHING
    if S.NEEDS_REVIEW in statuses:
        return Post.Status.NEEDS_REVIEW
    if statuses == {S.PUBLISHED}:
        return Post.Status.PUBLISHED
    if S.PUBLISHED in statuses:
        return Post.Status.PARTIALLY_PUBLISHED
    if statuses == {S.CANCELLED}:
        return Post.Status.CANCELLED
    if statuses <= {S.MISSED, S.CANCELLED}:
        return Post.Status.MISSED
    return Post.Status.FAILED


def post_status_rollup(*, post_id: int) -> str:
    """Set the post's status from the jobs of its latest occurrence; return it."""
    with transaction.atomic():
        post = Post.objects.select_for_update().only("id", "status", "workspace_id").get(pk=post_id)
        jobs = PublishJob.objects.filter(post_id=post_id)
        latest = jobs.aggregate(latest=Max("occurrence_at"))["latest"]
        if latest is None:
            return post.status
        statuses = set(jobs.filter(occurrence_at=latest).values_list("status", flat=True))
        new_status = _rolled_up(statuses)
        if new_status != post.status:
            Post.objects.filter(pk=post_id).update(status=new_status, updated_at=timezone.now())
            audit_record(
                workspace=post.workspace,
                actor=None,
                action="post.status_changed",
                subject=post,
                from_status=post.status,
                to_status=new_status,
            )
    return new_status


# --- Staff actions --------------------------------------------------------------------


@dataclass(frozen=True)
class CancelOutcome:
    cancelled_jobs: int
    still_running: int
    already_done: int

    def message(self) -> str:
        parts = [f"Cancelled {self.cancelled_jobs} job(s)."]
        if self.still_running:
            parts.append(
                f"{self.still_running} job(s) were already being published and could not be "
                "stopped; their outcome will show when they finish."
            )
        if self.already_done:
            parts.append(f"{self.already_done} job(s) had already finished.")
        return " ".join(parts)


def post_cancel(*, post: Post, actor, now: datetime | None = None) -> CancelOutcome:
    """Stop a post from going out: its schedule and every job not yet running.

    A job that a worker has already claimed (running) cannot be taken back: its
    compare-and-set wins over ours, and the outcome says so.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Schedule.objects.filter(
            post=post, status__in=[Schedule.Status.ACTIVE, Schedule.Status.PAUSED]
        ).update(status=Schedule.Status.CANCELLED, next_occurrence_at=None, updated_at=now)
        waiting = list(
            PublishJob.objects.filter(post=post, status__in=[S.PENDING, S.QUEUED]).values_list(
                "pk", flat=True
            )
        )
        cancelled = job_transition(
            job_ids=waiting,
            from_statuses=[S.PENDING, S.QUEUED],
            to_status=S.CANCELLED,
            now=now,
            lease_expires_at=None,
            error_message="Cancelled by staff.",
        )
        running = PublishJob.objects.filter(post=post, status=S.RUNNING).count()
        done = PublishJob.objects.filter(post=post).exclude(status__in=[*ACTIVE, S.CANCELLED])
        outcome = CancelOutcome(
            cancelled_jobs=cancelled, still_running=running, already_done=done.count()
        )
        from_status = post.status
        if PublishJob.objects.filter(post=post).exists():
            post_status_rollup(post_id=post.pk)
        else:
            Post.objects.filter(pk=post.pk).update(status=Post.Status.CANCELLED, updated_at=now)
        audit_record(
            workspace=post.workspace,
            actor=actor,
            action="post.cancelled",
            subject=post,
            from_status=from_status,
            to_status=Post.objects.values_list("status", flat=True).get(pk=post.pk),
            message=outcome.message(),
        )
    return outcome


def post_publish_now(*, post: Post, actor, now: datetime | None = None) -> int:
    """Publish to every target as soon as a worker is free; return the jobs created.

    The jobs form a new occurrence at `now`, so they never collide with a scheduled
    occurrence; a schedule still waiting is finished, since the post is going out now.
    """
    now = now or timezone.now()
    problems = post_problems(post=post)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        Schedule.objects.filter(post=post, status=Schedule.Status.ACTIVE).update(
            status=Schedule.Status.FINISHED, next_occurrence_at=None, updated_at=now
        )
        jobs = PublishJob.objects.bulk_create(
            [
                PublishJob(
                    post=post,
                    account_id=account_id,
                    occurrence_at=now,
                    due_at=now,
                    next_attempt_at=now,
                )
                for account_id in post.targets.values_list("account_id", flat=True)
            ],
            ignore_conflicts=True,
        )
        post_status_rollup(post_id=post.pk)
        audit_record(workspace=post.workspace, actor=actor, action="post.publish_now", subject=post)
    return len(jobs)


def job_retry(*, job: PublishJob, actor, now: datetime | None = None) -> bool:
    """Send one failed, missed or doubtful job again, leaving the post's other jobs alone."""
    now = now or timezone.now()
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.FAILED, S.MISSED, S.NEEDS_REVIEW],
            to_status=S.PENDING,
            now=now,
            due_at=now,
            next_attempt_at=now,
            error_kind="",
            error_message="",
        )
        if moved:
            post_status_rollup(post_id=job.post_id)
            audit_record(
                workspace=job.post.workspace,
                actor=actor,
                action="job.retried",
                subject=job,
                from_status=job.status,
                to_status=S.PENDING,
            )
    return bool(moved)
