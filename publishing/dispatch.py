"""The dispatch tick: due schedules become jobs, due jobs go to the workers.

The database is the source of truth; the broker is only a doorbell. Every step
here is safe to run twice at once (two beats, an overlapping tick, a retried
task) and safe to interrupt at any point:

* Claims use `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent
  ticks take disjoint batches instead of queueing on each other's locks. SQLite
  has no row locks; there `transaction_mode=IMMEDIATE` serialises writers and the
  compare-and-set status updates carry correctness on their own.
* Jobs are unique on (post, account, occurrence_at) and created with
  insert-or-ignore, so materialising an occurrence twice creates nothing twice.
* Tasks are sent only after the transaction that queued their jobs commits. If
  sending fails, or the message is lost later (a broker restart, a worker killed
  before it acknowledged), the job stays queued and is sent again when its lease
  runs out.
* A job still running when its lease ran out was cut short (a killed worker, an
  answer that never came). The tick takes it over by raising its claim token and
  sends a reconciliation task, which asks the network before anything is retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import SocialAccount
from posts.models import Post, Target
from publishing import metrics
from publishing.approval import JOB_WAITS_FOR_APPROVAL, posts_still_approved
from publishing.execution import job_is_missed, jobs_miss
from publishing.limits import posting_allowed_at
from publishing.models import JobStatus, PublishJob
from publishing.rows import rows_insert_from_select
from publishing.services import posts_status_rollup
from publishing.states import job_transition
from scheduling.models import Schedule
from scheduling.selectors import schedule_occurrence_after

logger = logging.getLogger(__name__)

S = JobStatus

# A tick keeps taking batches while they come back full, but hands over to the
# next tick after this long, so one slow tick never holds a worker for minutes.
TICK_BUDGET_SECONDS = 5.0


@dataclass
class TickResult:
    materialized: int = 0
    queued: int = 0
    resent: int = 0
    missed: int = 0
    recovered: int = 0

    def __bool__(self) -> bool:
        return any((self.materialized, self.queued, self.resent, self.missed, self.recovered))


def tick(*, now: datetime | None = None, batch_size: int | None = None) -> TickResult:
    batch_size = batch_size or settings.KAIROS_DISPATCH_BATCH_SIZE
    result = TickResult()
    started = time.monotonic()
    while time.monotonic() - started < TICK_BUDGET_SECONDS:
        at = now or timezone.now()
        materialized = occurrences_materialize(now=at, limit=batch_size)
        queued, missed = jobs_dispatch(now=at, limit=batch_size)
        missed += jobs_miss_unapproved(now=at, limit=batch_size)
        resent = jobs_resend_lost(now=at, limit=batch_size)
        recovered = jobs_recover(now=at, limit=batch_size)
        result.materialized += materialized
        result.queued += queued
        result.missed += missed
        result.resent += resent
        result.recovered += recovered
        if max(materialized, queued + missed, resent, recovered) < batch_size:
            break
    metrics.tick_observe(result=result, seconds=time.monotonic() - started, now=now or at)
    if result:
        logger.info("tick: %s", result)
    return result


def occurrences_materialize(*, now: datetime, limit: int) -> int:
    """Turn due schedules into one pending job per target; advance each schedule."""
    with transaction.atomic():
        due = list(
            Schedule.objects.select_for_update(skip_locked=True)
            .filter(status=Schedule.Status.ACTIVE, next_occurrence_at__lte=now)
            .order_by("next_occurrence_at")
            .prefetch_related("changes")[:limit]
        )
        if not due:
            return 0
        # One pending job per target of each due schedule, made by the database from
        # the rows it holds. Deleted posts get none; a job already made is skipped.
        quote = connection.ops.quote_name
        placeholders = ", ".join(["%s"] * len(due))
        rows_insert_from_select(
            model=PublishJob,
            select={
                "post": "s.post_id",
                "account": "t.account_id",
                "occurrence_at": "s.next_occurrence_at",
                "occurrence_number": "s.occurrence_count + 1",
                "priority": "p.priority",
                "due_at": "s.next_occurrence_at",
                "next_attempt_at": "s.next_occurrence_at",
            },
            source=f"FROM {quote(Schedule._meta.db_table)} s "
            f"JOIN {quote(Target._meta.db_table)} t ON t.post_id = s.post_id "
            f"JOIN {quote(Post._meta.db_table)} p ON p.id = s.post_id "
            f"WHERE s.id IN ({placeholders}) AND p.deleted_at IS NULL",
            params=[schedule.pk for schedule in due],
            now=now,
        )
        # Their posts are publishing from now on, also while the jobs wait their turn.
        posts_status_rollup(post_ids=[schedule.post_id for schedule in due])
        following: dict[datetime | None, list[int]] = {}
        for schedule in due:
            schedule.last_occurrence_at = schedule.next_occurrence_at
            schedule.occurrence_count += 1
            after = schedule_occurrence_after(schedule=schedule, after=schedule.last_occurrence_at)
            following.setdefault(after, []).append(schedule.pk)
        # One UPDATE per distinct next occurrence (a single one for all one-off
        # schedules) rather than bulk_update's CASE per row and field, which Django
        # builds in Python at over a millisecond a schedule. The rows are ours under
        # FOR UPDATE (PostgreSQL) or the IMMEDIATE write lock (SQLite), and SET reads
        # the old row, so last_occurrence_at takes the occurrence just materialised.
        for next_at, schedule_ids in following.items():
            Schedule.objects.filter(pk__in=schedule_ids).update(
                last_occurrence_at=F("next_occurrence_at"),
                occurrence_count=F("occurrence_count") + 1,
                next_occurrence_at=next_at,
                status=Schedule.Status.ACTIVE if next_at else Schedule.Status.FINISHED,
                updated_at=now,
            )
    return len(due)


def jobs_dispatch(*, now: datetime, limit: int) -> tuple[int, int]:
    """Queue due pending jobs, most urgent first, and send them after commit.

    Jobs of a paused workspace, or of an account that is not active (paused,
    waiting to be reconnected), stay pending: they neither fail nor spend
    attempts, and go out on resuming if still within the missed-post window. So do
    jobs of a post waiting for approval (`JOB_WAITS_FOR_APPROVAL`); they go out once
    approved, or become missed past the window (`jobs_miss_unapproved`).
    Only as many are queued as leave at most KAIROS_MAX_IN_FLIGHT waiting in the
    broker: a backlog waits here, in priority order, not behind the broker's FIFO.
    Returns (queued, missed).
    """
    with transaction.atomic():
        waiting = PublishJob.objects.filter(status=S.QUEUED).count()
        limit = min(limit, settings.KAIROS_MAX_IN_FLIGHT - waiting)
        if limit <= 0:
            return 0, 0
        due = list(
            PublishJob.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=S.PENDING,
                next_attempt_at__lte=now,
                post__workspace__publishing_paused_at__isnull=True,
                account__status=SocialAccount.Status.ACTIVE,
            )
            .exclude(JOB_WAITS_FOR_APPROVAL)
            .order_by("priority", "next_attempt_at")
            .values_list(
                "pk",
                "post_id",
                "due_at",
                "post__workspace__missed_post_window",
                "priority",
                "account_id",
                "post__workspace__posts_need_approval",
            )[:limit]
        )
        asking = {post_id for _, post_id, *_, needs_approval in due if needs_approval}
        if asking:
            approved = posts_still_approved(post_ids=asking)
            due = [job for job in due if job[1] not in asking or job[1] in approved]
        if not due:
            return 0, 0
        missed = [
            (pk, post_id, window)
            for pk, post_id, due_at, window, *_ in due
            if job_is_missed(due_at=due_at, window=window, now=now)
        ]
        jobs_miss(
            missed=[(pk, window) for pk, _, window in missed], from_statuses=[S.PENDING], now=now
        )
        posts_status_rollup(post_ids=[post_id for _, post_id, _ in missed])
        missed_ids = {pk for pk, _, _ in missed}
        ready = [(pk, priority, account) for pk, _, _, _, priority, account, _ in due]
        ready = [job for job in ready if job[0] not in missed_ids]
        queued_one_by_one, held = _posting_limits_apply(jobs=ready, now=now)
        rest = [pk for pk, _, _ in ready if pk not in held and pk not in queued_one_by_one]
        queued = len(queued_one_by_one) + _queue(job_ids=rest, now=now)
        sends = [(pk, priority) for pk, priority, _ in ready if pk not in held]
        transaction.on_commit(lambda: jobs_send(sends))
    return queued, len(missed)


def jobs_miss_unapproved(*, now: datetime, limit: int) -> int:
    """Mark missed the pending jobs whose post still waited for approval when the
    workspace's missed-post window after their time ran out; return how many.

    The rows are locked with SKIP LOCKED, as in `jobs_dispatch`; the compare-and-set
    from pending leaves a job alone that was cancelled meanwhile. An approval that
    comes at the same moment changes nothing: past the window, dispatch would mark the
    job missed too.
    """
    with transaction.atomic():
        late = list(
            PublishJob.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(JOB_WAITS_FOR_APPROVAL, status=S.PENDING, due_at__lte=now)
            .alias(deadline=F("due_at") + F("post__workspace__missed_post_window"))
            .filter(deadline__lt=now)
            .order_by("due_at")
            .values_list("pk", "post_id", "post__workspace__missed_post_window")[:limit]
        )
        if not late:
            return 0
        jobs_miss(
            missed=[(pk, window) for pk, _, window in late], from_statuses=[S.PENDING], now=now
        )
        posts_status_rollup(post_ids=[post_id for _, post_id, _ in late])
    return len(late)


def _queue(*, job_ids: Sequence[int], now: datetime) -> int:
    return job_transition(
        job_ids=job_ids,
        from_statuses=[S.PENDING],
        to_status=S.QUEUED,
        now=now,
        lease_expires_at=now + settings.KAIROS_QUEUED_LEASE,
        send_count=1,
    )


def _posting_limits_apply(
    *, jobs: Sequence[tuple[int, int, int]], now: datetime
) -> tuple[set[int], set[int]]:
    """Of the (job, priority, account) about to be queued, decide those whose account has
    posting limits, one job at a time; return (queued here, held back).

    Each allowed job is queued at once, so the next decision for the same account
    counts it. A held job keeps waiting, pending, until the time its limits allow,
    with the reason recorded; it spends no attempt.
    """
    limited = {
        account.pk: account
        for account in SocialAccount.objects.filter(
            pk__in={account_id for _, _, account_id in jobs}, posting_limit__isnull=False
        ).select_related("posting_limit", "workspace")
    }
    queued: set[int] = set()
    held: set[int] = set()
    for pk, _, account_id in jobs:
        if account_id not in limited:
            continue
        allowed_at, reason = posting_allowed_at(account=limited[account_id], at=now)
        if allowed_at <= now:
            if _queue(job_ids=[pk], now=now):
                queued.add(pk)
            continue
        held.add(pk)
        PublishJob.objects.filter(pk=pk, status=S.PENDING).update(
            next_attempt_at=allowed_at, error_message=reason, updated_at=now
        )
    return queued, held


# A message is sent again at most after 1, 2, 4 … 32 leases of waiting.
RESEND_BACKOFF_CAP = 5


def jobs_resend_lost(*, now: datetime, limit: int) -> int:
    """Send again the queued jobs whose message never started a task within the lease.

    The message may be lost (a broker flush, a worker killed before it
    acknowledged) or only waiting behind a backlog; nothing tells the two apart, so
    each resend doubles the job's lease. A lost message costs one lease; a waiting
    one is sent a handful of times at most, however long the backlog.
    """
    with transaction.atomic():
        lost = list(
            PublishJob.objects.select_for_update(skip_locked=True)
            .filter(status=S.QUEUED, lease_expires_at__lte=now)
            .order_by("lease_expires_at")
            .values_list("pk", "priority", "send_count")[:limit]
        )
        if not lost:
            return 0
        by_sends: dict[int, list[int]] = {}
        for pk, _, sends in lost:
            by_sends.setdefault(sends, []).append(pk)
        resent = sum(
            job_transition(
                job_ids=ids,
                from_statuses=[S.QUEUED],
                to_status=S.QUEUED,
                now=now,
                lease_expires_at=now
                + settings.KAIROS_QUEUED_LEASE * 2 ** min(sends, RESEND_BACKOFF_CAP),
                send_count=sends + 1,
            )
            for sends, ids in by_sends.items()
        )
        logger.warning("resending %d job(s) whose message was lost or is late", resent)
        messages = [(pk, priority) for pk, priority, _ in lost]
        transaction.on_commit(lambda: jobs_send(messages))
    return resent


def jobs_recover(*, now: datetime, limit: int) -> int:
    """Take over running jobs whose lease ran out and send each to reconciliation."""
    with transaction.atomic():
        expired = list(
            PublishJob.objects.select_for_update(skip_locked=True)
            .filter(status=S.RUNNING, lease_expires_at__lte=now)
            .order_by("lease_expires_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not expired:
            return 0
        # Raising the token fences off the holder that was cut short; the new
        # lease covers the look-up and keeps other ticks from taking it again.
        PublishJob.objects.filter(
            pk__in=expired, status=S.RUNNING, lease_expires_at__lte=now
        ).update(
            claim_token=F("claim_token") + 1,
            lease_expires_at=now + settings.KAIROS_RUNNING_LEASE,
            updated_at=now,
        )
        claims = list(PublishJob.objects.filter(pk__in=expired).values_list("pk", "claim_token"))
        logger.warning("recovering %d job(s) cut short mid-attempt", len(claims))
        transaction.on_commit(lambda: reconciliations_send(claims))
    return len(claims)


# Reconciliations go ahead of every post: each unblocks a job that has waited a
# whole lease already, and a look-up is cheap.
RECONCILE_PRIORITY = 0


# The tasks are named, not imported: publishing/tasks.py is a face over this module.
PUBLISH_JOBS_TASK = "publishing.tasks.publish_jobs"
RECONCILE_JOB_TASK = "publishing.tasks.reconcile_job"


def reconciliations_send(claims: Sequence[tuple[int, int]]) -> None:
    _send(RECONCILE_JOB_TASK, [((job_id, token), RECONCILE_PRIORITY) for job_id, token in claims])


def jobs_send(jobs: Sequence[tuple[int, int]]) -> None:
    """Ring the doorbell for the (job id, priority) pairs, most urgent first: one message
    per batch of jobs of one priority, all over one broker connection."""
    by_priority: dict[int, list[int]] = {}
    for job_id, priority in jobs:
        by_priority.setdefault(priority, []).append(job_id)
    _send(
        PUBLISH_JOBS_TASK,
        [
            ((batch,), priority)
            for priority, job_ids in sorted(by_priority.items())
            for batch in batches_split(job_ids, size=settings.KAIROS_PUBLISH_BATCH_SIZE)
        ],
    )


def batches_split(items: Sequence[int], *, size: int) -> list[list[int]]:
    """Consecutive batches of at most `size`, as even as can be: 21 by 20 is 10 + 11, not
    20 + 1, so two workers share the work instead of one doing almost all of it."""
    count = -(-len(items) // size)
    return [
        list(items[len(items) * number // count : len(items) * (number + 1) // count])
        for number in range(count)
    ]


def _send(task_name: str, messages: Sequence[tuple[tuple, int | None]]) -> None:
    """Send messages after commit. A failure loses nothing: the rows stay queued or
    running, and are sent again when their lease runs out."""
    if not messages:
        return
    app = current_app
    try:
        # One pipelined round trip to Redis per batch, not one per message (kombu 5.7).
        # Should it fail, what was not flushed is dropped, and sent again with the lease.
        with app.producer_or_acquire() as producer, producer.batch():
            for args, priority in messages:
                app.send_task(task_name, args=args, producer=producer, priority=priority)
    except Exception:
        logger.exception("could not send %d %s message(s)", len(messages), task_name)
