"""Watching Kairos through its database: waiting for it to settle while the chaos goes on,
what is stuck if it does not, and the jobs' outcome.

Import this module only after `django.setup()`. The database is crashed on
purpose during the run, so a progress read may fail; it then reports nothing,
and the next read opens a fresh connection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import Error as DatabaseError
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from chaos.cluster import Cluster
from chaos.monkey import Monkey, Timeline
from chaos.report import FINAL_JOB_STATUSES, JobRow
from posts.models import Post
from publishing.models import PublishAttempt, PublishJob

POLL_SECONDS = 2.0
PROGRESS_EVERY_SECONDS = 10.0
SLEEP_SECONDS = 0.2
# How many stuck jobs and posts a timeout lists.
STUCK_EXAMPLES = 20


@dataclass(frozen=True)
class Progress:
    jobs_by_status: dict[str, int]
    posts_without_jobs: int

    @property
    def settled(self) -> bool:
        """Every post has its job, and every job has reached a status it will keep."""
        return self.posts_without_jobs == 0 and set(self.jobs_by_status) <= FINAL_JOB_STATUSES

    def line(self) -> str:
        jobs = ", ".join(
            f"{status} {count}" for status, count in sorted(self.jobs_by_status.items())
        )
        return f"jobs: {jobs or 'none yet'}; posts without jobs: {self.posts_without_jobs}"


@dataclass
class Settling:
    """How the wait went: what was stuck at the end (nothing, if Kairos settled), and
    the deepest the broker's publish queue got on the way."""

    stuck: list[str] = field(default_factory=list)
    peak_publish_backlog: int = 0


def settle(cluster: Cluster, monkey: Monkey, timeline: Timeline, *, deadline: float) -> Settling:
    """Keep the chaos going until Kairos has settled every post, or until `deadline`
    (seconds on the timeline)."""
    settling = Settling()
    next_poll = next_progress = 0.0
    while True:
        monkey.act()
        monkey.supervise()
        now = timeline.elapsed()
        if now >= next_poll:
            next_poll = now + POLL_SECONDS
            backlog = cluster.publish_backlog()
            settling.peak_publish_backlog = max(settling.peak_publish_backlog, backlog or 0)
            progress = progress_read()
            if progress is not None and progress.settled:
                timeline.note(f"settled: {progress.line()}")
                return settling
            if progress is not None and now >= next_progress:
                next_progress = now + PROGRESS_EVERY_SECONDS
                timeline.note(f"{progress.line()}; publish queue: {backlog} message(s)")
        if now >= deadline:
            settling.stuck = stuck_describe()
            timeline.note(f"gave up waiting at {now:.0f} s; stuck:")
            for line in settling.stuck:
                print(f"    {line}", flush=True)
            return settling
        time.sleep(SLEEP_SECONDS)


def progress_read() -> Progress | None:
    """Where the jobs stand, or None while the database cannot say."""
    try:
        counts = PublishJob.objects.order_by().values_list("status").annotate(Count("id"))
        return Progress(
            jobs_by_status=dict(counts), posts_without_jobs=_posts_without_jobs().count()
        )
    except DatabaseError:
        connection.close()
        return None


def stuck_describe() -> list[str]:
    """The jobs not yet final and the posts without a job, with what Kairos knows of them."""
    unsettled = PublishJob.objects.exclude(status__in=FINAL_JOB_STATUSES).order_by("pk")
    counts = unsettled.order_by().values_list("status").annotate(Count("id"))
    lines = [f"jobs not final: {', '.join(f'{status} {count}' for status, count in counts)}"]
    for job in unsettled.prefetch_related("attempts")[:STUCK_EXAMPLES]:
        attempts = " ".join(f"#{a.number}:{a.outcome or 'open'}" for a in job.attempts.all())
        lines.append(
            f"job {job.pk} (post {job.post_id}): {job.status}, claim {job.claim_token}, "
            f"lease until {_clock(job.lease_expires_at)}, next attempt "
            f"{_clock(job.next_attempt_at)}, attempts [{attempts}], "
            f"last error {job.error_kind or '-'}: {job.error_message or '-'}"
        )
    orphans = list(_posts_without_jobs().order_by("pk").values_list("pk", flat=True))
    if orphans:
        lines.append(f"{len(orphans)} post(s) without jobs: {orphans[:STUCK_EXAMPLES]}")
    return lines


def jobs_read() -> list[JobRow]:
    rows = PublishJob.objects.order_by("pk").values_list("pk", "post_id", "status")
    return [JobRow(job_id=pk, post_id=post_id, status=status) for pk, post_id, status in rows]


def reconciled_attempts_count() -> int:
    """Attempts whose outcome was unknown, each of which sent its job to reconciliation.

    Those still `uncertain`, and those reconciliation found on the network: it
    turns their outcome into `success` but leaves the error that made them doubtful.
    """
    outcome = PublishAttempt.Outcome
    doubtful = Q(outcome=outcome.UNCERTAIN) | (Q(outcome=outcome.SUCCESS) & ~Q(error_kind=""))
    return PublishAttempt.objects.filter(doubtful).count()


def connection_renew() -> None:
    """Drop the driver's connection, which may predate the database's crash."""
    connection.close()


def _posts_without_jobs() -> QuerySet[Post]:
    return Post.objects.filter(~Exists(PublishJob.objects.filter(post=OuterRef("pk"))))


def _clock(instant: datetime | None) -> str:
    return f"{instant:%H:%M:%S}" if instant else "-"
