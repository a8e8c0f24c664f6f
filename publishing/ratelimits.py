"""Rate-limit windows, as the networks last reported them, shared by every worker.

Adapters record what each response's headers say; before a job calls the
network, the worker asks whether a window that covers it is spent. A spent
window defers the job to its reset without spending a request on a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Q

from publishing.models import RateLimitWindow

APP_KEY = "app"


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


@dataclass(frozen=True)
class WindowReading:
    key: str
    endpoint: str
    window: str
    limit: int
    remaining: int
    resets_at: datetime


def rate_limits_record(*, network: str, readings: Iterable[WindowReading], now: datetime) -> None:
    """Keep the latest reading of each window (one upsert per window)."""
    readings = list(readings)
    if not readings:
        return
    RateLimitWindow.objects.bulk_create(
        [
            RateLimitWindow(
                network=network,
                key=reading.key,
                endpoint=reading.endpoint,
                window=reading.window,
                limit=reading.limit,
                remaining=reading.remaining,
                resets_at=reading.resets_at,
                updated_at=now,
            )
            for reading in readings
        ],
        update_conflicts=True,
        unique_fields=["network", "key", "endpoint", "window"],
        update_fields=["limit", "remaining", "resets_at", "updated_at"],
    )


def rate_limited_until(
    *, network: str, account_id: int, endpoint: str, now: datetime
) -> datetime | None:
    """When the account may call `endpoint` again, or None if no window covering it is spent.

    Several spent windows (the 15-minute one and a 24-hour one) mean waiting for
    the latest of their resets.
    """
    return RateLimitWindow.objects.filter(
        Q(key=account_key(account_id)) | Q(key=APP_KEY),
        network=network,
        endpoint=endpoint,
        remaining=0,
        resets_at__gt=now,
    ).aggregate(until=Max("resets_at"))["until"]
