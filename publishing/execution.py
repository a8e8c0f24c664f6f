"""Running a publish job: one attempt at the network, and recovery when one is cut short.

Locking rules:

* The job's status moves only by compare-and-set (`states.job_transition`).
* Every claim of a running job raises its `claim_token`: the worker that starts
  an attempt, and the sweeper that takes over a job whose lease ran out. Every
  later write about that run (a thread part's id, an uploaded file's id, the
  outcome) carries the token in its compare-and-set, so a holder that lost its
  claim writes nothing.
* The attempt row is committed together with the claim, before any network call:
  whatever happens next, the intent is on record.

An attempt whose request may have reached the network (a timeout after sending,
a 5xx, a dropped connection, a worker killed mid-call) is never retried blindly.
The job stays running with a short lease; when it runs out, the sweeper asks the
adapter whether the post is there (`job_reconcile`): found → published, surely
absent → retried, unknown → asked again later, then left to staff.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics.services import metrics_first_due_at
from publishing.backoff import BackoffSchedule
from publishing.models import JobStatus, PublishAttempt, PublishJob
from publishing.networks import adapter_for
from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    ErrorKind,
    Presence,
    PublishError,
    PublishResult,
)
from publishing.ratelimits import rate_limited_until
from publishing.services import post_status_rollup, publish_request_build
from publishing.states import job_transition

logger = logging.getLogger(__name__)

S = JobStatus
BACKOFF = BackoffSchedule()
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
# How often the network may fail to say whether a post exists before staff decide.
RECONCILE_TRIES = 3
# Look for our post a little before the attempt began: clocks differ.
CLOCK_SKEW = timedelta(seconds=30)


def job_is_missed(*, due_at: datetime, window: timedelta, now: datetime) -> bool:
    return now - due_at > window


def job_missed_message(window: timedelta) -> str:
    return (
        f"Could not start within the workspace's missed-post window ({window}) after its "
        "time, so it was not sent late. Publish it now if it is still wanted."
    )


class LeaseLost(Exception):
    """The job was taken from this holder (its lease ran out); stop touching it."""


def _running(job: PublishJob, token: int) -> Q:
    return Q(status=S.RUNNING, claim_token=token) & Q(pk=job.pk)


# --- Starting an attempt --------------------------------------------------------------


def job_start(*, job_id: int, now: datetime) -> tuple[PublishJob, PublishAttempt] | None:
    """queued → running, with the attempt committed as intent before any network call.

    Returns None when the job is not ours to run: another worker claimed it, staff
    cancelled it, a rate limit defers it, or it waited past the missed-post window.
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
        limited_until = rate_limited_until(
            network=job.account.network, account_id=job.account_id, endpoint="post", now=now
        )
        if limited_until is not None:
            job_transition(
                job_ids=[job.pk],
                from_statuses=[S.QUEUED],
                to_status=S.PENDING,
                now=now,
                next_attempt_at=limited_until,
                lease_expires_at=None,
                error_kind=ErrorKind.RATE_LIMITED,
                error_message=f"Waiting for the network's rate limit to reset at "
                f"{limited_until:%Y-%m-%d %H:%M:%S} UTC.",
            )
            return None
        claimed = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.QUEUED],
            to_status=S.RUNNING,
            now=now,
            attempt_count=F("attempt_count") + 1,
            claim_token=F("claim_token") + 1,
            reconcile_count=0,
            lease_expires_at=now + settings.KAIROS_RUNNING_LEASE,
        )
        if not claimed:
            return None
        job.refresh_from_db(
            fields=["status", "attempt_count", "claim_token", "lease_expires_at", "reconcile_count"]
        )
        attempt = PublishAttempt.objects.create(
            job=job, number=job.attempt_count, started_at=now, worker=WORKER_NAME
        )
        post_status_rollup(post_id=job.post_id)
    return job, attempt


def job_record_part(*, job: PublishJob, token: int, index: int, external_id: str) -> None:
    """Save one thread segment's id as soon as it is on the network."""
    part_ids = [*job.part_external_ids[:index], external_id]
    saved = PublishJob.objects.filter(_running(job, token)).update(
        part_external_ids=part_ids, updated_at=timezone.now()
    )
    if not saved:
        raise LeaseLost(f"Job {job.pk} is no longer held with claim {token}.")
    job.part_external_ids = part_ids


def job_record_media(
    *, job: PublishJob, token: int, asset_id: int, media_id: str, expires_at: datetime
) -> None:
    """Keep an uploaded file's id on the job, so a retry within its lifetime reuses it."""
    uploads = {
        **job.media_uploads,
        str(asset_id): {"media_id": media_id, "expires_at": expires_at.isoformat()},
    }
    saved = PublishJob.objects.filter(_running(job, token)).update(
        media_uploads=uploads, updated_at=timezone.now()
    )
    if not saved:
        raise LeaseLost(f"Job {job.pk} is no longer held with claim {token}.")
    job.media_uploads = uploads


# --- Recording the outcome ------------------------------------------------------------


def _attempt_finish(
    attempt: PublishAttempt,
    *,
    outcome: str,
    now: datetime,
    duration_ms: int | None = None,
    error: PublishError | None = None,
) -> None:
    attempt.outcome = outcome
    attempt.finished_at = attempt.finished_at or now
    if duration_ms is not None:
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
    token: int,
    attempt: PublishAttempt,
    result: PublishResult,
    now: datetime,
    duration_ms: int | None = None,
) -> bool:
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.RUNNING],
            to_status=S.PUBLISHED,
            now=now,
            extra=Q(claim_token=token),
            external_id=result.external_id,
            external_url=result.url,
            part_external_ids=list(result.part_ids),
            published_at=now,
            metrics_due_at=metrics_first_due_at(network=job.account.network, published_at=now),
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
            logger.warning("job %s published as %s after losing its claim", job.pk, result.url)
    return bool(moved)


def _retry_or_fail(*, attempt_number: int, error: PublishError, now: datetime) -> tuple[str, dict]:
    """The status and fields after a failure that is known not to have published."""
    if error.kind == ErrorKind.RATE_LIMITED:
        # A refusal for pace, not for the post: wait for the reset as long as it
        # takes (the missed-post window bounds it), spending no attempt budget.
        retry_at = error.retry_at or now + BACKOFF.delay(attempt=attempt_number)
        return S.PENDING, {"next_attempt_at": retry_at}
    if error.kind == ErrorKind.AUTH_EXPIRED and error.details.get(ACCOUNT_NEEDS_REAUTH):
        # The account waits for staff to reconnect it, and dispatch holds the jobs of
        # accounts that are not active: the job waits too, failing nothing and, like
        # a rate limit, never running out of attempts for it.
        return S.PENDING, {"next_attempt_at": now}
    if error.kind.retryable:
        retry_at = BACKOFF.next_attempt_at(
            attempt=attempt_number, now=now, not_before=error.retry_at
        )
        if retry_at is not None:
            return S.PENDING, {"next_attempt_at": retry_at}
        return S.FAILED, {
            "error_message": f"Gave up after {attempt_number} attempts: {error.message}"
        }
    return S.FAILED, {}


def job_record_failure(
    *,
    job: PublishJob,
    token: int,
    attempt: PublishAttempt,
    error: PublishError,
    now: datetime,
    duration_ms: int | None = None,
) -> str:
    """Decide from the error what becomes of the job; return its new status."""
    uncertain = error.maybe_accepted or (
        # X refuses a repeat of a post it already has. After an attempt whose outcome
        # was unknown, the post it refers to may well be ours.
        error.kind == ErrorKind.DUPLICATE
        and job.attempts.filter(outcome=PublishAttempt.Outcome.UNCERTAIN).exists()
    )
    fields = {"error_kind": error.kind, "error_message": error.message}
    with transaction.atomic():
        if uncertain:
            # Still running: the sweeper reconciles when this short lease runs out.
            saved = PublishJob.objects.filter(_running(job, token)).update(
                lease_expires_at=now + settings.KAIROS_RECONCILE_DELAY, updated_at=now, **fields
            )
            _attempt_finish(
                attempt,
                outcome=PublishAttempt.Outcome.UNCERTAIN,
                now=now,
                duration_ms=duration_ms,
                error=error,
            )
            return S.RUNNING if saved else "claim-lost"
        to_status, decided = _retry_or_fail(attempt_number=attempt.number, error=error, now=now)
        fields.update(decided)
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.RUNNING],
            to_status=to_status,
            now=now,
            extra=Q(claim_token=token),
            lease_expires_at=None,
            **fields,
        )
        outcome = PublishAttempt.Outcome.RETRY if to_status == S.PENDING else "failed"
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
    token = job.claim_token
    adapter = adapter_for(job.account.network)
    request = publish_request_build(job=job)
    clock = time.monotonic()

    def finish(**outcome) -> dict:
        elapsed = int((time.monotonic() - clock) * 1000)
        return {"job": job, "token": token, "attempt": attempt, "now": timezone.now(),
                "duration_ms": elapsed, **outcome}  # fmt: skip

    problems = adapter.validate(account=job.account, parts=request.parts)
    if problems:
        error = PublishError(kind=ErrorKind.VALIDATION, message=" ".join(problems))
        return job_record_failure(**finish(error=error))
    try:
        result = adapter.publish(
            request,
            on_part_published=lambda index, external_id: job_record_part(
                job=job, token=token, index=index, external_id=external_id
            ),
            on_media_uploaded=lambda asset_id, media_id, expires_at: job_record_media(
                job=job, token=token, asset_id=asset_id, media_id=media_id, expires_at=expires_at
            ),
        )
    except LeaseLost:
        logger.warning("job %s: claim lost mid-publish; leaving it to recovery", job.pk)
        return "claim-lost"
    except PublishError as error:
        return job_record_failure(**finish(error=error))
    except Exception as exc:
        # A fault of ours or an answer nobody foresaw, possibly after the request
        # went out: the outcome is unknown, so it is reconciled, never retried blindly.
        logger.exception("job %s: unexpected error while publishing", job.pk)
        error = PublishError(
            kind=ErrorKind.UNKNOWN,
            message=f"Unexpected error: {type(exc).__name__}.",
            maybe_accepted=True,
        )
        return job_record_failure(**finish(error=error))
    job_record_success(**finish(result=result))
    return S.PUBLISHED


# --- Recovery -------------------------------------------------------------------------


def job_reconcile(*, job_id: int, token: int) -> str:
    """Settle a running job whose attempt was cut short, by asking the network.

    The sweeper claimed the job (raising its token) before sending this; a job no
    longer held with that token was settled by someone else.
    """
    now = timezone.now()
    job = (
        PublishJob.objects.select_related("post__workspace", "account")
        .filter(pk=job_id, status=S.RUNNING, claim_token=token)
        .first()
    )
    if job is None:
        return "not-claimed"
    attempt = job.attempts.order_by("-number").first()
    if not attempt.outcome:
        # The worker vanished mid-call (killed, out of memory, lost its host).
        _attempt_finish(
            attempt,
            outcome=PublishAttempt.Outcome.UNCERTAIN,
            now=now,
            error=PublishError(
                kind=ErrorKind.UNKNOWN,
                message="The worker stopped during the attempt; checking the network.",
            ),
        )
    adapter = adapter_for(job.account.network)
    request = publish_request_build(job=job)
    index = len(job.part_external_ids)
    if index < len(request.parts):
        lookup = adapter.find_part(request, index=index, since=attempt.started_at - CLOCK_SKEW)
    else:
        lookup = None  # Every part was posted and saved; only the outcome went unrecorded.
    try:
        if lookup is not None and lookup.presence == Presence.FOUND:
            job_record_part(job=job, token=token, index=index, external_id=lookup.external_id)
        if lookup is None or lookup.presence == Presence.FOUND:
            return _reconciled_found(job=job, token=token, attempt=attempt, parts=request.parts)
    except LeaseLost:
        return "claim-lost"
    if lookup.presence == Presence.ABSENT:
        return _reconciled_absent(job=job, token=token, attempt=attempt, now=now)
    return _reconciled_unknown(job=job, token=token, reason=lookup.reason, now=now)


def _reconciled_found(*, job: PublishJob, token: int, attempt: PublishAttempt, parts) -> str:
    now = timezone.now()
    if len(job.part_external_ids) < len(parts):
        # A thread cut short: the next attempt resumes after the last part posted.
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.RUNNING],
            to_status=S.PENDING,
            now=now,
            extra=Q(claim_token=token),
            next_attempt_at=now,
            lease_expires_at=None,
        )
        if moved:
            post_status_rollup(post_id=job.post_id)
        return S.PENDING
    adapter = adapter_for(job.account.network)
    first = job.part_external_ids[0]
    result = PublishResult(
        external_id=first,
        url=adapter.post_url(account=job.account, external_id=first),
        part_ids=tuple(job.part_external_ids),
    )
    # The attempt did publish; its record keeps why it had to be looked for.
    attempt.error_message = (
        f"{attempt.error_message or 'The attempt was cut short.'} Reconciliation found "
        "the post on the network."
    )
    job_record_success(job=job, token=token, attempt=attempt, result=result, now=now)
    return S.PUBLISHED


def _reconciled_absent(*, job: PublishJob, token: int, attempt: PublishAttempt, now) -> str:
    """The network surely does not have the post: trying again cannot double it."""
    error = PublishError(
        kind=ErrorKind(attempt.error_kind or ErrorKind.NETWORK),
        message=attempt.error_message or "The attempt was cut short before the post was made.",
    )
    if attempt.error_kind and error.kind.retryable:
        to_status, fields = _retry_or_fail(attempt_number=attempt.number, error=error, now=now)
    elif attempt.number < BACKOFF.max_attempts:
        to_status, fields = S.PENDING, {"next_attempt_at": now}
    else:
        to_status, fields = S.FAILED, {}
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.RUNNING],
            to_status=to_status,
            now=now,
            extra=Q(claim_token=token),
            lease_expires_at=None,
            **fields,
        )
        if moved:
            post_status_rollup(post_id=job.post_id)
    return to_status


def _reconciled_unknown(*, job: PublishJob, token: int, reason: str, now) -> str:
    tries = job.reconcile_count + 1
    if tries < RECONCILE_TRIES:
        PublishJob.objects.filter(_running(job, token)).update(
            reconcile_count=tries,
            lease_expires_at=now + settings.KAIROS_RECONCILE_DELAY * 2**tries,
            updated_at=now,
        )
        return S.RUNNING
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=[S.RUNNING],
            to_status=S.NEEDS_REVIEW,
            now=now,
            extra=Q(claim_token=token),
            lease_expires_at=None,
            reconcile_count=tries,
            error_message=(
                f"The attempt was cut short and {job.account.get_network_display()} could not "
                f"say whether the post went out ({reason or 'no answer'}). Check "
                f"{job.account}, then mark the job as published with its link, retry it, "
                "or cancel it."
            ),
        )
        if moved:
            post_status_rollup(post_id=job.post_id)
    return S.NEEDS_REVIEW
