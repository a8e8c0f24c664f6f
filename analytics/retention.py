"""Retention: which old rows `manage.py cleanup` and its daily beat entry delete, and why
that is safe.

It lives in the top layer because it is the one that sees every table it trims
(audit events, jobs, attempts, sandbox posts, metric snapshots). Each kind has an
age in settings (`KAIROS_RETENTION_*_DAYS`, README "Operating Kairos"); a row goes
once it is older than that, and only when nothing still needs it:

* attempts: those of a finished job (published, failed, cancelled, missed) last
  changed before the cut-off. A job that may still move (pending, queued,
  running) or that staff must review keeps them: execution, reconciliation and
  the review read them.
* jobs: finished, last changed before the cut-off, collecting no more metrics,
  and not of their post's latest occurrence (the post's status is rolled up from
  those). Their attempts and snapshots go with them. An old occurrence is never
  made again (a schedule only moves forward), so the unique key it held is not
  needed to prevent a double post.
* audit events: by age alone; they are a history.
* sandbox posts: by age, except those of a job that is not finished.
  Reconciliation asks the sandbox by idempotency key whether a post exists; a
  deleted one would read as "surely absent" and be posted again.
* metric snapshots: by when they were collected. The latest-metrics roll-up
  (`LatestMetrics`) follows by its triggers: a job whose latest snapshot went reads
  its previous one, or none.
* webhook deliveries: delivered or given up, by when they were made (or last sent
  again). One still being retried stays: its receiver is owed it.
* idempotency answers: after `accounts.idempotency.KEPT_FOR` (24 hours, not a
  setting: the README promises integrators a day), when a repeat no longer gets them.
* hourly metric snapshots: compacted to daily once older than
  `KAIROS_RETENTION_METRICS_HOURLY_DAYS` (30): of a post's snapshots planned on one
  UTC day, the last stays (its numbers are the day's, as they only grow) and the
  earlier ones go. Stats read a post's latest snapshot, and its numbers at 24 h and
  7 d as the last snapshot planned by then, so a compacted post reads the same there.

Locking rule: nothing is held between batches. A batch's ids are read without a
lock, in primary-key order after the last batch, then one short transaction
deletes those ids with the condition asked again, so a row that changed in
between (a job staff retried) stays. Workers, ticks and the admin keep running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDate

from accounts.idempotency import KEPT_FOR, idempotency_expired
from accounts.models import AuditEvent, SocialAccount, WebhookDelivery
from analytics.models import MetricsSnapshot
from publishing.models import JobStatus, PublishAttempt, PublishJob, SandboxPost

FINISHED = (JobStatus.PUBLISHED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.MISSED)


@dataclass(frozen=True)
class RetentionKind:
    """One kind of row that ages out: its name, its age (a setting in days, or `kept_for`
    when Kairos promises a fixed life), and which rows may go."""

    name: str
    setting: str
    deletable: Callable[[datetime], models.QuerySet]
    kept_for: timedelta | None = None

    def age(self) -> timedelta:
        if self.kept_for is not None:
            return self.kept_for
        return timedelta(days=getattr(settings, self.setting))

    def age_label(self) -> str:
        """The age in words, for the command's report: "365 days", "24 hours"."""
        age = self.age()
        if age % timedelta(days=1) or age < timedelta(days=2):
            return f"{age // timedelta(hours=1)} hours"
        return f"{age.days} days"


def _attempts(cutoff: datetime) -> models.QuerySet:
    return PublishAttempt.objects.filter(
        job__status__in=FINISHED, job__updated_at__lt=cutoff, started_at__lt=cutoff
    )


def _jobs(cutoff: datetime) -> models.QuerySet:
    later_occurrence = PublishJob.objects.filter(
        post_id=OuterRef("post_id"), occurrence_at__gt=OuterRef("occurrence_at")
    )
    return PublishJob.objects.filter(
        Exists(later_occurrence),
        status__in=FINISHED,
        updated_at__lt=cutoff,
        metrics_due_at__isnull=True,
    )


def _audit_events(cutoff: datetime) -> models.QuerySet:
    return AuditEvent.objects.filter(created_at__lt=cutoff)


def _sandbox_posts(cutoff: datetime) -> models.QuerySet:
    # A sandbox post is made during an attempt, after its job was created, so only
    # jobs older than the cut-off can have posts older than it; there are few.
    unfinished = (
        PublishJob.objects.exclude(status__in=FINISHED)
        .filter(account__network=SocialAccount.Network.SANDBOX, created_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    # Keys are "kairos-job-<job id>:<part>" (publishing/networks/sandbox.py).
    needed = Q()
    for job_id in unfinished:
        needed |= Q(idempotency_key__startswith=f"kairos-job-{job_id}:")
    return SandboxPost.objects.filter(created_at__lt=cutoff).exclude(needed)


def _metrics(cutoff: datetime) -> models.QuerySet:
    return MetricsSnapshot.objects.filter(collected_at__lt=cutoff)


def _webhook_deliveries(cutoff: datetime) -> models.QuerySet:
    return WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(
        status=WebhookDelivery.Status.PENDING
    )


def _idempotency_answers(cutoff: datetime) -> models.QuerySet:
    return idempotency_expired(cutoff=cutoff)


def _metrics_within_day(cutoff: datetime) -> models.QuerySet:
    later_same_day = MetricsSnapshot.objects.annotate(day=TruncDate("due_at", tzinfo=UTC)).filter(
        job_id=OuterRef("job_id"), due_at__gt=OuterRef("due_at"), day=OuterRef("day")
    )
    return MetricsSnapshot.objects.annotate(day=TruncDate("due_at", tzinfo=UTC)).filter(
        Exists(later_same_day), due_at__lt=cutoff
    )


# Jobs last: what would cascade with them is deleted, and counted, under its own kind first.
KINDS = (
    RetentionKind("metric snapshots", "KAIROS_RETENTION_METRICS_DAYS", _metrics),
    RetentionKind(
        "hourly metric snapshots", "KAIROS_RETENTION_METRICS_HOURLY_DAYS", _metrics_within_day
    ),
    RetentionKind("attempts", "KAIROS_RETENTION_ATTEMPTS_DAYS", _attempts),
    RetentionKind("sandbox posts", "KAIROS_RETENTION_SANDBOX_DAYS", _sandbox_posts),
    RetentionKind("webhook deliveries", "KAIROS_RETENTION_WEBHOOKS_DAYS", _webhook_deliveries),
    RetentionKind("audit events", "KAIROS_RETENTION_AUDIT_DAYS", _audit_events),
    RetentionKind(
        "idempotency answers",
        "",
        _idempotency_answers,
        kept_for=KEPT_FOR,
    ),
    RetentionKind("jobs", "KAIROS_RETENTION_JOBS_DAYS", _jobs),
)


@dataclass(frozen=True)
class Progress:
    kind: str
    deleted: int
    total: int


def retention_counts(*, now: datetime) -> dict[str, int]:
    """How many rows of each kind are past their age now (what a dry run reports)."""
    return {kind.name: kind.deletable(now - kind.age()).count() for kind in KINDS}


def retention_purge(
    *, now: datetime, batch_size: int = 500, kinds: tuple[RetentionKind, ...] = KINDS
) -> Iterator[Progress]:
    """Delete every row past its age, kind by kind, in batches of `batch_size` ids, each
    batch its own transaction; yield the progress of a kind as it starts and after each
    of its batches.

    `total` is the count before the first batch; `deleted` counts rows of the kind
    itself (what cascades with them is not counted).
    """
    for kind in kinds:
        cutoff = now - kind.age()
        total = kind.deletable(cutoff).count()
        deleted, last_id = 0, 0
        yield Progress(kind=kind.name, deleted=0, total=total)
        while True:
            batch = list(
                kind.deletable(cutoff)
                .filter(pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not batch:
                break
            rows = kind.deletable(cutoff).filter(pk__in=batch)
            with transaction.atomic():
                _, by_model = rows.delete()
            deleted += by_model.get(rows.model._meta.label, 0)
            last_id = batch[-1]
            yield Progress(kind=kind.name, deleted=min(deleted, total), total=total)
