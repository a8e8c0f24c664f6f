"""Running publish jobs: attempts at the network, in batches, and recovery when one is cut short.

A worker takes a batch of queued jobs (one message names several) through three
steps, each costing a handful of queries for the whole batch rather than for each
job: claim them all in one transaction, publish each, then record every outcome in
one transaction.

Locking rules:

* The job's status moves only by compare-and-set (`states.job_transition`).
* The claim locks the batch's queued rows (`SELECT … FOR UPDATE SKIP LOCKED` on
  PostgreSQL; SQLite's IMMEDIATE transactions serialise writers instead). A row
  another transaction holds (a second delivery of the message being claimed by
  another worker, staff cancelling, a tick resending) is skipped: it is not ours.
  Post rows are locked after job rows, in id order, by the roll-up.
* Every claim of a running job raises its `claim_token`: the worker that starts
  an attempt, and the sweeper that takes over a job whose lease ran out. Every
  later write about that run (a thread part's id, an uploaded file's id, the
  outcome) carries the token in its compare-and-set, so a holder that lost its
  claim writes nothing. In a batch each job keeps its own token: the sweeper can
  take one job from a batch without touching the others.
* The attempt rows are committed together with the claim, before any network
  call: whatever happens next, the intent is on record.

An attempt whose request may have reached the network (a timeout after sending,
a 5xx, a dropped connection, a worker killed mid-call) is never retried blindly.
The job stays running with a short lease; when it runs out, the sweeper asks the
adapter whether the post is there (`job_reconcile`): found → published, surely
absent → retried, unknown → asked again later, then left to staff. The same
holds for a batch cut short before its outcomes were recorded: every job in it is
still running, and each is reconciled.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.services import audit_record
from publishing import metrics
from publishing.backoff import BackoffSchedule
from publishing.logs import job_log_context
from publishing.metrics_plan import metrics_first_due_at
from publishing.models import JobStatus, PublishAttempt, PublishJob
from publishing.networks import adapter_for
from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    OPERATOR_WAIT,
    WAITS_FOR_OPERATOR,
    ErrorKind,
    Presence,
    PublishError,
    PublishRequest,
    PublishResult,
)
from publishing.ratelimits import rate_limited_until_by_account, rate_limits_deferred
from publishing.rows import rows_insert_from_select, rows_update
from publishing.services import (
    post_status_rollup,
    posts_status_rollup,
    publish_request_build,
    publish_requests_build,
)
from publishing.states import job_transition, jobs_moved_audit, jobs_transition_held
from publishing.stores import DatabaseStore

logger = logging.getLogger(__name__)

S = JobStatus
BACKOFF = BackoffSchedule()
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
# How often the network may fail to say whether a post exists before staff decide.
RECONCILE_TRIES = 3
# Look for our post a little before the attempt began: clocks differ.
CLOCK_SKEW = timedelta(seconds=30)
NOT_CLAIMED = "not-claimed"
CLAIM_LOST = "claim-lost"


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


def _held_job_move(*, job: PublishJob, token: int, to_status: str, now: datetime, **fields) -> bool:
    """running → `to_status`, ending the lease, if the job is still held with `token`."""
    return bool(
        jobs_transition_held(
            held=[(job.pk, token, {"lease_expires_at": None, **fields})],
            from_status=S.RUNNING,
            to_status=to_status,
            now=now,
        )
    )


def _held_job_settle(
    *, job: PublishJob, token: int, to_status: str, now: datetime, **fields
) -> str:
    """`_held_job_move` and the post's roll-up, together: recovery settles one job at a time."""
    with transaction.atomic():
        if _held_job_move(job=job, token=token, to_status=to_status, now=now, **fields):
            if to_status == S.NEEDS_REVIEW:
                jobs_moved_audit(
                    job_ids=[job.pk], from_statuses=[S.RUNNING], to_status=to_status, now=now
                )
            post_status_rollup(post_id=job.post_id)
    return to_status


@dataclass
class Run:
    """A job this worker holds: claimed with `token`, its attempt on record."""

    job: PublishJob
    token: int
    attempt: PublishAttempt


@dataclass
class Finished:
    """What one attempt came to, not yet recorded."""

    run: Run
    now: datetime
    duration_ms: int | None = None
    result: PublishResult | None = None
    error: PublishError | None = None
    lease_lost: bool = False
    # The batch ran out of time before trying it: it never reached the network.
    untried: bool = False


# --- Starting attempts ----------------------------------------------------------------


def jobs_start(*, job_ids: Sequence[int], now: datetime) -> list[Run]:
    """queued → running for the batch's jobs that are ours to run, with their attempts
    committed as intent before any network call.

    A job is left alone when another worker claimed it, staff cancelled it, a spent
    rate limit defers it (back to pending until the reset), or it waited past the
    missed-post window (missed).
    """
    with transaction.atomic(durable=True):
        jobs = list(
            PublishJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("post__workspace", "account")
            .filter(pk__in=job_ids, status=S.QUEUED)
            .order_by("pk")
        )
        if not jobs:
            return []
        missed = [
            job
            for job in jobs
            if job_is_missed(
                due_at=job.due_at, window=job.post.workspace.missed_post_window, now=now
            )
        ]
        jobs_miss(
            missed=[(job.pk, job.post.workspace.missed_post_window) for job in missed],
            from_statuses=[S.QUEUED],
            now=now,
        )
        deferred = _jobs_defer_rate_limited(
            jobs=[job for job in jobs if job not in missed], now=now
        )
        metrics.rate_limit_deferrals_observe(jobs=jobs, deferred=deferred)
        claimed = [job for job in jobs if job not in missed and job.pk not in deferred]
        runs = _jobs_claim(jobs=claimed, now=now)
        metrics.jobs_started_observe(jobs=claimed, now=now)
        # Claimed jobs leave their posts publishing, as the jobs' creation made them
        # (queued → running is active to active); only a missed job changes one.
        posts_status_rollup(post_ids=[job.post_id for job in missed])
    return runs


def jobs_miss(
    *, missed: Sequence[tuple[int, timedelta]], from_statuses: Sequence[str], now: datetime
) -> None:
    """Jobs that could not start within their workspace's window, as (job id, window):
    missed, not sent late."""
    by_window: dict[timedelta, list[int]] = {}
    for job_id, window in missed:
        by_window.setdefault(window, []).append(job_id)
    for window, job_ids in by_window.items():
        job_transition(
            job_ids=job_ids,
            from_statuses=from_statuses,
            to_status=S.MISSED,
            now=now,
            lease_expires_at=None,
            error_message=job_missed_message(window),
        )
        jobs_moved_audit(job_ids=job_ids, from_statuses=from_statuses, to_status=S.MISSED, now=now)


def _jobs_defer_rate_limited(*, jobs: Sequence[PublishJob], now: datetime) -> set[int]:
    """Send back to pending, until the reset, the jobs whose account or app spent a
    rate-limit window the network told us of; return their ids. No attempt is spent."""
    held: dict[int, datetime] = {}
    for network in {job.account.network for job in jobs}:
        held |= rate_limited_until_by_account(
            network=network,
            account_ids={job.account_id for job in jobs if job.account.network == network},
            endpoint="post",
            now=now,
        )
    by_until: dict[datetime, list[int]] = {}
    for job in jobs:
        if job.account_id in held:
            by_until.setdefault(held[job.account_id], []).append(job.pk)
    for until, job_ids in by_until.items():
        job_transition(
            job_ids=job_ids,
            from_statuses=[S.QUEUED],
            to_status=S.PENDING,
            now=now,
            next_attempt_at=until,
            lease_expires_at=None,
            error_kind=ErrorKind.RATE_LIMITED,
            error_message=f"Waiting for the network's rate limit to reset at "
            f"{until:%Y-%m-%d %H:%M:%S} UTC.",
        )
    return {job_id for job_ids in by_until.values() for job_id in job_ids}


def _jobs_claim(*, jobs: Sequence[PublishJob], now: datetime) -> list[Run]:
    """Claim the locked jobs (one compare-and-set) and open an attempt for each."""
    if not jobs:
        return []
    lease_expires_at = now + settings.KAIROS_RUNNING_LEASE
    claimed = job_transition(
        job_ids=[job.pk for job in jobs],
        from_statuses=[S.QUEUED],
        to_status=S.RUNNING,
        now=now,
        attempt_count=F("attempt_count") + 1,
        claim_token=F("claim_token") + 1,
        reconcile_count=0,
        lease_expires_at=lease_expires_at,
    )
    if claimed != len(jobs):
        # The rows are locked (PostgreSQL) or the database is (SQLite): nobody else can
        # have moved them. Fail loudly; the jobs stay queued and are sent again.
        raise RuntimeError(f"Claimed {claimed} of {len(jobs)} locked jobs.")
    for job in jobs:
        job.status = S.RUNNING
        job.attempt_count += 1
        job.claim_token += 1
        job.reconcile_count = 0
        job.lease_expires_at = lease_expires_at
    # Each attempt numbered as its job's new attempt count, made by the database.
    quote = connection.ops.quote_name
    rows_insert_from_select(
        model=PublishAttempt,
        select={"job": "j.id", "number": "j.attempt_count"},
        constants={"started_at": now, "worker": WORKER_NAME},
        source=f"FROM {quote(PublishJob._meta.db_table)} j "
        f"WHERE j.id IN ({', '.join(['%s'] * len(jobs))})",
        params=[job.pk for job in jobs],
        now=now,
    )
    return [
        Run(
            job=job,
            token=job.claim_token,
            attempt=PublishAttempt(
                job=job, number=job.attempt_count, started_at=now, worker=WORKER_NAME
            ),
        )
        for job in jobs
    ]


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


# --- Publishing -----------------------------------------------------------------------


def jobs_execute(*, job_ids: Sequence[int]) -> dict[int, str]:
    """Run one attempt of each queued job of a batch: claim, publish, record.

    Returns what became of each job id: its new status, "not-claimed" or "claim-lost".
    """
    outcomes = dict.fromkeys(job_ids, NOT_CLAIMED)
    runs = jobs_start(job_ids=job_ids, now=timezone.now())
    if not runs:
        return outcomes
    requests = publish_requests_build(jobs=[run.job for run in runs])
    deadline = time.monotonic() + settings.KAIROS_TASK_TIME_LIMIT / 2

    def attempt(run: Run) -> Finished:
        if time.monotonic() >= deadline:
            return _not_tried(run)
        with job_log_context(job=run.job):
            return _attempt(run, requests[run.job.pk])

    remote = [run for run in runs if adapter_for(run.job.account.network).remote]
    side_by_side = remote if len(remote) > 1 else []
    finished: list[Finished] = []
    try:
        with rate_limits_deferred():
            finished += _side_by_side(attempt, side_by_side)
            for run in runs:
                if run not in side_by_side:
                    finished.append(attempt(run))
    finally:
        # Even when the batch is cut short (a soft time limit, a shutdown), what did
        # finish is recorded; the rest stay running and are reconciled.
        outcomes |= attempts_record(finished)
    return outcomes


_network_threads: ThreadPoolExecutor | None = None


def _side_by_side(attempt: Callable[[Run], Finished], runs: Sequence[Run]) -> list[Finished]:
    """The runs' attempts side by side on a pool of KAIROS_PUBLISH_THREADS threads (one
    pool per process), so a batch waits on the network about as long as its slowest
    answers, not the sum of them. Returns in the runs' order; nothing for no runs.

    Threads get copies of this context: rate-limit readings still collect in the
    batch's deferred block. An attempt that needs the database on its thread (a token
    refresh, a thread part's id) opens a connection there, closed when it is done.
    """
    global _network_threads
    if not runs:
        return []
    if _network_threads is None:
        _network_threads = ThreadPoolExecutor(
            max_workers=settings.KAIROS_PUBLISH_THREADS, thread_name_prefix="kairos-publish"
        )

    def on_its_thread(run: Run) -> Finished:
        try:
            return attempt(run)
        finally:
            connections.close_all()

    futures = [
        _network_threads.submit(contextvars.copy_context().run, on_its_thread, run) for run in runs
    ]
    return [future.result() for future in futures]


def _forget_network_threads() -> None:
    # A forked child (a prefork worker) starts with no threads: make its own pool.
    global _network_threads
    _network_threads = None


os.register_at_fork(after_in_child=_forget_network_threads)


def job_execute(*, job_id: int) -> str:
    """Run one attempt of one queued job (a batch of one)."""
    return jobs_execute(job_ids=[job_id])[job_id]


def _attempt(run: Run, request: PublishRequest) -> Finished:
    """Publish one job of the batch; whatever happens becomes a `Finished`."""
    job, token = run.job, run.token
    adapter = adapter_for(job.account.network)
    clock = time.monotonic()

    def finish(**outcome) -> Finished:
        elapsed = int((time.monotonic() - clock) * 1000)
        return Finished(run=run, now=timezone.now(), duration_ms=elapsed, **outcome)

    def part_published(index: int, external_id: str) -> None:
        if index + 1 < len(request.parts):
            # The next part replies to this one: a later attempt must know it exists.
            job_record_part(job=job, token=token, index=index, external_id=external_id)
        else:
            # The last part's id is written with the outcome, in the batch's one write.
            job.part_external_ids = [*job.part_external_ids[:index], external_id]

    problems = adapter.validate(account=request.account, parts=request.parts)
    if problems:
        return finish(error=PublishError(kind=ErrorKind.VALIDATION, message=" ".join(problems)))
    try:
        result = adapter.publish(
            request,
            store=DatabaseStore(network=adapter.network),
            on_part_published=part_published,
            on_media_uploaded=lambda asset_id, media_id, expires_at: job_record_media(
                job=job, token=token, asset_id=asset_id, media_id=media_id, expires_at=expires_at
            ),
        )
    except LeaseLost:
        logger.warning("job %s: claim lost mid-publish; leaving it to recovery", job.pk)
        return finish(lease_lost=True)
    except PublishError as error:
        return finish(error=error)
    except Exception as exc:
        # A fault of ours or an answer nobody foresaw, possibly after the request
        # went out: the outcome is unknown, so it is reconciled, never retried blindly.
        logger.exception("job %s: unexpected error while publishing", job.pk)
        error = PublishError(
            kind=ErrorKind.UNKNOWN,
            message=f"Unexpected error: {type(exc).__name__}.",
            maybe_accepted=True,
        )
        return finish(error=error)
    return finish(result=result)


def _not_tried(run: Run) -> Finished:
    return Finished(run=run, now=timezone.now(), duration_ms=0, untried=True)


# --- Recording outcomes ---------------------------------------------------------------


def attempts_record(finished: Sequence[Finished]) -> dict[int, str]:
    """Record what the attempts came to, in one transaction; return each job's new status
    (or "claim-lost" for a job taken from this worker meanwhile)."""
    outcomes: dict[int, str] = {}
    if not finished:
        return outcomes
    with transaction.atomic():
        published = [item for item in finished if item.result is not None]
        outcomes |= _jobs_record_published(published)
        for item in finished:
            if item.lease_lost:
                outcomes[item.run.job.pk] = CLAIM_LOST
            elif item.untried:
                outcomes[item.run.job.pk] = _job_hand_back(item)
            elif item.error is not None:
                outcomes[item.run.job.pk] = _job_record_failure(item)
        _attempts_finish(finished)
        _accounts_rate_limited_audit(finished)
        posts_status_rollup(
            post_ids=[
                item.run.job.post_id
                for item in finished
                if outcomes[item.run.job.pk] not in (CLAIM_LOST, S.RUNNING)
            ]
        )
    metrics.attempts_observe(finished=finished, outcomes=outcomes)
    return outcomes


def _accounts_rate_limited_audit(finished: Sequence[Finished]) -> None:
    """One `account.rate_limited` event per account the network refused for pace in
    this batch (its jobs wait for the reset), not one per job."""
    until_by_account: dict[int, tuple[PublishJob, datetime | None]] = {}
    for item in finished:
        if item.error is not None and item.error.kind == ErrorKind.RATE_LIMITED:
            job = item.run.job
            until_by_account.setdefault(job.account_id, (job, item.error.retry_at))
    for job, until in until_by_account.values():
        audit_record(
            workspace=job.post.workspace,
            actor=None,
            action="account.rate_limited",
            subject=job.account,
            message=f"{job.account.get_network_display()} refused a post for pace; jobs "
            "wait for the rate limit to reset.",
            data={"until": until.isoformat() if until else None, "job": job.pk},
        )


def _jobs_record_published(published: Sequence[Finished]) -> dict[int, str]:
    """running → published for every success, each a compare-and-set on (job, token)."""
    if not published:
        return {}
    moved = jobs_transition_held(
        held=[
            (
                item.run.job.pk,
                item.run.token,
                {
                    "external_id": item.result.external_id,
                    "external_url": item.result.url,
                    "part_external_ids": list(item.result.part_ids),
                    "published_at": item.now,
                    "metrics_due_at": metrics_first_due_at(
                        network=item.run.job.account.network,
                        published_at=item.now,
                        job_id=item.run.job.pk,
                    ),
                    "lease_expires_at": None,
                    "error_kind": "",
                    "error_message": "",
                },
            )
            for item in published
        ],
        from_status=S.RUNNING,
        to_status=S.PUBLISHED,
        now=max(item.now for item in published),
    )
    ours = {item.run.job.pk for item in published}
    if moved < len(published):
        held = reduce(
            or_, (Q(pk=item.run.job.pk, claim_token=item.run.token) for item in published)
        )
        ours = set(PublishJob.objects.filter(held, status=S.PUBLISHED).values_list("pk", flat=True))
    outcomes = {}
    for item in published:
        job = item.run.job
        if job.pk in ours:
            outcomes[job.pk] = S.PUBLISHED
        else:
            logger.warning("job %s published as %s after losing its claim", job.pk, item.result.url)
            outcomes[job.pk] = CLAIM_LOST
        item.run.attempt.outcome = PublishAttempt.Outcome.SUCCESS
    return outcomes


def _attempts_finish(finished: Sequence[Finished]) -> None:
    """Close the attempts of the batch in one round trip (a lost claim's attempt stays
    open: whoever took the job over settles it)."""
    rows = []
    for item in finished:
        if item.lease_lost:
            continue
        attempt = item.run.attempt
        attempt.finished_at = attempt.finished_at or item.now
        if item.duration_ms is not None:
            attempt.duration_ms = item.duration_ms
        if item.error is not None:
            attempt.error_kind = item.error.kind
            attempt.error_message = item.error.message
            attempt.http_status = item.error.http_status
            attempt.request_id = item.error.request_id
        values = {name: getattr(attempt, name) for name in ATTEMPT_OUTCOME_FIELDS}
        rows.append((values, {"job": attempt.job_id, "number": attempt.number}))
    rows_update(model=PublishAttempt, rows=rows)


ATTEMPT_OUTCOME_FIELDS = (
    "outcome",
    "finished_at",
    "duration_ms",
    "error_kind",
    "error_message",
    "http_status",
    "request_id",
)


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
    if error.details.get(WAITS_FOR_OPERATOR):
        # Only an operator can mend it (kairos_status names the setting): the job asks
        # again now and then, spending no attempts, until that is done or its
        # missed-post window closes.
        return S.PENDING, {"next_attempt_at": now + OPERATOR_WAIT}
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


def _job_record_failure(item: Finished) -> str:
    """Decide from the error what becomes of the job; return its new status (the
    caller's transaction holds; the attempt is closed with the batch's)."""
    job, token, attempt, error, now = (
        item.run.job,
        item.run.token,
        item.run.attempt,
        item.error,
        item.now,
    )
    uncertain = error.maybe_accepted or (
        # X refuses a repeat of a post it already has. After an attempt whose outcome
        # was unknown, the post it refers to may well be ours.
        error.kind == ErrorKind.DUPLICATE
        and job.attempts.filter(outcome=PublishAttempt.Outcome.UNCERTAIN).exists()
    )
    fields = {"error_kind": error.kind, "error_message": error.message}
    if uncertain:
        # Still running: the sweeper reconciles when this short lease runs out.
        saved = PublishJob.objects.filter(_running(job, token)).update(
            lease_expires_at=now + settings.KAIROS_RECONCILE_DELAY, updated_at=now, **fields
        )
        attempt.outcome = PublishAttempt.Outcome.UNCERTAIN
        return S.RUNNING if saved else CLAIM_LOST
    to_status, decided = _retry_or_fail(attempt_number=attempt.number, error=error, now=now)
    fields.update(decided)
    moved = _held_job_move(job=job, token=token, to_status=to_status, now=now, **fields)
    attempt.outcome = (
        PublishAttempt.Outcome.RETRY if to_status == S.PENDING else PublishAttempt.Outcome.FAILED
    )
    return to_status if moved else CLAIM_LOST


UNTRIED_MESSAGE = "Not tried: its batch ran out of time (the network answered slowly); sent again."


def _job_hand_back(item: Finished) -> str:
    """A job its batch had no time left for goes back to wait, due at once: it never
    reached the network, so nothing can be doubled, and no backoff applies."""
    moved = _held_job_move(
        job=item.run.job,
        token=item.run.token,
        to_status=S.PENDING,
        now=item.now,
        next_attempt_at=item.now,
        error_message=UNTRIED_MESSAGE,
    )
    item.run.attempt.outcome = PublishAttempt.Outcome.RETRY
    item.run.attempt.error_message = UNTRIED_MESSAGE
    return S.PENDING if moved else CLAIM_LOST


def job_record_success(
    *, job: PublishJob, token: int, attempt: PublishAttempt, result: PublishResult, now: datetime
) -> bool:
    """Record one attempt that published (reconciliation found its post)."""
    finished = Finished(run=Run(job=job, token=token, attempt=attempt), now=now, result=result)
    return attempts_record([finished])[job.pk] == S.PUBLISHED


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
        attempt.outcome = PublishAttempt.Outcome.UNCERTAIN
        attempt.finished_at = now
        attempt.error_kind = ErrorKind.UNKNOWN
        attempt.error_message = "The worker stopped during the attempt; checking the network."
        attempt.save(update_fields=["outcome", "finished_at", "error_kind", "error_message"])
    adapter = adapter_for(job.account.network)
    request = publish_request_build(job=job)
    index = len(job.part_external_ids)
    if index < len(request.parts):
        lookup = adapter.find_part(
            request,
            index=index,
            since=attempt.started_at - CLOCK_SKEW,
            store=DatabaseStore(network=adapter.network),
        )
    else:
        lookup = None  # Every part was posted and saved; only the outcome went unrecorded.
    try:
        if lookup is not None and lookup.presence == Presence.FOUND:
            job_record_part(job=job, token=token, index=index, external_id=lookup.external_id)
        if lookup is None or lookup.presence == Presence.FOUND:
            return _reconciled_found(job=job, token=token, attempt=attempt, request=request)
    except LeaseLost:
        return "claim-lost"
    if lookup.presence == Presence.ABSENT:
        return _reconciled_absent(job=job, token=token, attempt=attempt, now=now)
    return _reconciled_unknown(job=job, token=token, reason=lookup.reason, now=now)


def _reconciled_found(
    *, job: PublishJob, token: int, attempt: PublishAttempt, request: PublishRequest
) -> str:
    now = timezone.now()
    if len(job.part_external_ids) < len(request.parts):
        # A thread cut short: the next attempt resumes after the last part posted.
        return _held_job_settle(
            job=job, token=token, to_status=S.PENDING, now=now, next_attempt_at=now
        )
    adapter = adapter_for(job.account.network)
    first = job.part_external_ids[0]
    result = PublishResult(
        external_id=first,
        url=adapter.post_url(account=request.account, external_id=first),
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
    return _held_job_settle(job=job, token=token, to_status=to_status, now=now, **fields)


def _reconciled_unknown(*, job: PublishJob, token: int, reason: str, now) -> str:
    tries = job.reconcile_count + 1
    if tries < RECONCILE_TRIES:
        PublishJob.objects.filter(_running(job, token)).update(
            reconcile_count=tries,
            lease_expires_at=now + settings.KAIROS_RECONCILE_DELAY * 2**tries,
            updated_at=now,
        )
        return S.RUNNING
    return _held_job_settle(
        job=job,
        token=token,
        to_status=S.NEEDS_REVIEW,
        now=now,
        reconcile_count=tries,
        error_message=(
            f"The attempt was cut short and {job.account.get_network_display()} could not "
            f"say whether the post went out ({reason or 'no answer'}). Check "
            f"{job.account}, then mark the job as published with its link, retry it, "
            "or cancel it."
        ),
    )
