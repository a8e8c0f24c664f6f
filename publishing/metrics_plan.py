"""When a published post's numbers are read: the plan every published job follows.

A published job carries `metrics_due_at`, the next moment of the plan; analytics
reads the numbers when it comes (analytics/services.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from publishing.networks import adapter_for

# Early, while the numbers move fast, then daily. It stops at 30 days, when X stops
# giving the private numbers and each read still costs money.
METRICS_PLAN: tuple[timedelta, ...] = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=7),
    *(timedelta(days=day) for day in range(8, 31)),
)


def metrics_jitter(*, job_id: int) -> timedelta:
    """How long after each moment of its plan a job's numbers are read.

    Posts go out together at the top of the hour; read all at once an hour later they
    would make one burst against the networks' rate limits. Each job waits its own
    share of `KAIROS_METRICS_JITTER_SECONDS`, spread evenly by its id and the same at
    every moment, so a snapshot still stands for its moment (`due_at` is the moment).
    """
    spread = settings.KAIROS_METRICS_JITTER_SECONDS
    # Knuth's multiplicative hash: consecutive ids land far apart in the spread.
    return timedelta(seconds=(job_id * 2654435761) % (2**32) % spread) if spread else timedelta(0)


def metrics_first_due_at(*, network: str, published_at: datetime, job_id: int) -> datetime | None:
    """When a post just published is first read, or None for a network without metrics."""
    if not adapter_for(network).has_metrics:
        return None
    return published_at + METRICS_PLAN[0] + metrics_jitter(job_id=job_id)
