"""Metrics of published posts: snapshots on a fixed plan after publishing.

A published job carries `metrics_due_at`, the next moment of the plan. Every
minute the collector takes the jobs that are due, reads their posts' numbers
from the network (one token per account, in batches), stores one snapshot per
job and moment, and moves `metrics_due_at` to the next moment, or clears it
when the plan is done or the post is gone.

Locking rules:

* Due jobs are claimed in one transaction (`SELECT … FOR UPDATE SKIP LOCKED` on
  PostgreSQL; SQLite serialises writers) by pushing `metrics_due_at` a lease
  ahead, so two collectors never read the same post at once. A collector that
  dies mid-run leaves its claims to come due again when the lease runs out.
* The network is asked outside any transaction.
* Results are written by compare-and-set on the claimed `metrics_due_at`: a job
  whose post was deleted meanwhile (its `metrics_due_at` cleared) stays stopped.
* Snapshots are unique on (job, due_at) and inserted with insert-or-ignore, so
  a repeated collection stores nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts.models import AuditEvent, SocialAccount
from accounts.services import audit_records_add
from analytics.models import MetricsSnapshot
from publishing.metrics_plan import METRICS_PLAN, metrics_jitter
from publishing.models import JobStatus, PublishJob
from publishing.networks import adapter_for, adapters
from publishing.networks.base import PostMetrics, PublishError
from publishing.ratelimits import rate_limited_until
from publishing.stores import DatabaseStore, account_snapshot

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
BATCH_SIZE = 200
# A run keeps taking batches while they come back full, but stops after this long,
# well inside the task's time limit; the next run goes on.
RUN_BUDGET_SECONDS = 60.0
# When the network could not answer for an account (and named no time to wait),
# and how long after the plan's last moment it is still worth asking.
RETRY_AFTER = timedelta(minutes=15)
GIVE_UP_AFTER = METRICS_PLAN[-1] + timedelta(days=1)


def _moment_due(*, published_at: datetime, now: datetime) -> datetime:
    """The latest moment of the plan that has come: the one a reading now stands for."""
    return max(published_at + after for after in METRICS_PLAN if published_at + after <= now)


def _moment_next(*, job: PublishJob, now: datetime) -> datetime | None:
    """When the job's next snapshot is read: its plan's next moment, plus its jitter."""
    jitter = metrics_jitter(job_id=job.pk)
    upcoming = [
        job.published_at + after + jitter
        for after in METRICS_PLAN
        if job.published_at + after + jitter > now
    ]
    return min(upcoming, default=None)


def metrics_collect_due(*, now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Read the numbers of every post whose snapshot is due; return the snapshots stored.

    A collector that was down catches up with one snapshot per post, for the latest
    moment that has come, rather than several with the same numbers.
    """
    stored = 0
    started = time.monotonic()
    while time.monotonic() - started < RUN_BUDGET_SECONDS:
        jobs, claimed_until = _due_claim(now=now, limit=batch_size)
        by_account: dict[SocialAccount, list[PublishJob]] = defaultdict(list)
        for job in jobs:
            by_account[job.account].append(job)
        for account, account_jobs in by_account.items():
            stored += _account_collect(
                account=account, jobs=account_jobs, now=now, claimed_until=claimed_until
            )
        if len(jobs) < batch_size:
            break
    return stored


def _due_claim(*, now: datetime, limit: int) -> tuple[list[PublishJob], datetime]:
    claimed_until = now + CLAIM_LEASE
    with transaction.atomic():
        jobs = list(
            PublishJob.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status=JobStatus.PUBLISHED,
                metrics_due_at__lte=now,
                account__network__in=[a.network for a in adapters() if a.has_metrics],
            )
            .select_related("account")
            .order_by("metrics_due_at")[:limit]
        )
        PublishJob.objects.filter(pk__in=[job.pk for job in jobs]).update(
            metrics_due_at=claimed_until
        )
    return jobs, claimed_until


def _account_collect(
    *, account: SocialAccount, jobs: Sequence[PublishJob], now: datetime, claimed_until: datetime
) -> int:
    limited_until = rate_limited_until(
        network=account.network, account_id=account.pk, endpoint="lookup", now=now
    )
    if limited_until is not None:
        _due_set(jobs, claimed_until=claimed_until, due_at=lambda job: limited_until)
        return 0
    try:
        reading = adapter_for(account.network).metrics_fetch(
            account=account_snapshot(account),
            external_ids=[job.external_id for job in jobs],
            store=DatabaseStore(network=account.network),
        )
    except PublishError as error:
        logger.warning("metrics of %r not read: %s", account, error)
        retry_at = error.retry_at or now + RETRY_AFTER
        _due_set(
            jobs,
            claimed_until=claimed_until,
            due_at=lambda job: retry_at if retry_at < job.published_at + GIVE_UP_AFTER else None,
        )
        return 0
    snapshots = [
        metrics_snapshot(
            job,
            metrics=reading.metrics[job.external_id],
            due_at=_moment_due(published_at=job.published_at, now=now),
            collected_at=now,
        )
        for job in jobs
        if job.external_id in reading.metrics
    ]
    taken = set(
        MetricsSnapshot.objects.filter(
            job__in=[snapshot.job_id for snapshot in snapshots],
            due_at__in={snapshot.due_at for snapshot in snapshots},
        ).values_list("job_id", "due_at")
    )
    snapshots = [s for s in snapshots if (s.job_id, s.due_at) not in taken]
    with transaction.atomic():
        MetricsSnapshot.objects.bulk_create(snapshots, ignore_conflicts=True)
        _metrics_updated_audit(snapshots)
    _due_set(
        jobs,
        claimed_until=claimed_until,
        # A post X no longer has is not asked for again.
        due_at=lambda job: (
            None if job.external_id in reading.gone else _moment_next(job=job, now=now)
        ),
    )
    return len(snapshots)


def _metrics_updated_audit(snapshots: Sequence[MetricsSnapshot]) -> None:
    """One `post.metrics_updated` event per new snapshot, about its job."""
    job_type = ContentType.objects.get_for_model(PublishJob)
    audit_records_add(
        [
            AuditEvent(
                workspace_id=snapshot.job.account.workspace_id,
                action="post.metrics_updated",
                subject_type=job_type,
                subject_id=str(snapshot.job_id),
                data={
                    "post": snapshot.job.post_id,
                    "due_at": snapshot.due_at.isoformat(),
                    "metrics": {name: getattr(snapshot, name) for name in MetricsSnapshot.NUMBERS},
                },
            )
            for snapshot in snapshots
        ]
    )


def metrics_snapshot(
    job: PublishJob, *, metrics: PostMetrics, due_at: datetime, collected_at: datetime
) -> MetricsSnapshot:
    """An unsaved snapshot of `job` holding what the network reported."""
    return MetricsSnapshot(
        job=job,
        due_at=due_at,
        collected_at=collected_at,
        impressions=metrics.impressions,
        likes=metrics.likes,
        reposts=metrics.reposts,
        replies=metrics.replies,
        quotes=metrics.quotes,
        bookmarks=metrics.bookmarks,
        link_clicks=metrics.link_clicks,
        profile_clicks=metrics.profile_clicks,
        engagements=metrics.engagements,
        raw=metrics.raw,
    )


def _due_set(
    jobs: Sequence[PublishJob],
    *,
    claimed_until: datetime,
    due_at: Callable[[PublishJob], datetime | None],
) -> None:
    for job in jobs:
        PublishJob.objects.filter(pk=job.pk, metrics_due_at=claimed_until).update(
            metrics_due_at=due_at(job)
        )
