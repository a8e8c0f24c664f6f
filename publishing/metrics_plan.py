"""When a published post's numbers are read: the plan every published job follows.

A published job carries `metrics_due_at`, the next moment of the plan; analytics
reads the numbers when it comes (analytics/services.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

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


def metrics_first_due_at(*, network: str, published_at: datetime) -> datetime | None:
    """When a post just published is first read, or None for a network without metrics."""
    return published_at + METRICS_PLAN[0] if adapter_for(network).has_metrics else None
