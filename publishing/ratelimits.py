"""Rate-limit windows, as the networks last reported them, shared by every worker.

Adapters record what each response's headers say; before a job calls the
network, the worker asks whether a window that covers it is spent. A spent
window defers the job to its reset without spending a request on a refusal.

A worker publishing a batch of jobs defers the writing (`rate_limits_deferred`):
the readings of all its responses are written once, at the end, the latest of
each window winning, rather than one upsert per response.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.db.models import Max, Q

from publishing.models import RateLimitWindow
from publishing.networks.base import APP_KEY, WindowReading, account_key
from publishing.rows import rows_upsert

__all__ = ["APP_KEY", "WindowReading", "account_key"]

# Readings waiting to be written, while a `rate_limits_deferred` block runs.
_deferred: ContextVar[list[tuple[str, WindowReading, datetime]] | None] = ContextVar(
    "rate_limit_readings_deferred", default=None
)


def rate_limits_record(*, network: str, readings: Iterable[WindowReading], now: datetime) -> None:
    """Keep the latest reading of each window (one upsert per window), now or, inside
    `rate_limits_deferred`, when that block ends."""
    readings = list(readings)
    if not readings:
        return
    waiting = _deferred.get()
    if waiting is not None:
        waiting.extend((network, reading, now) for reading in readings)
        return
    _upsert([(network, reading, now) for reading in readings])


@contextmanager
def rate_limits_deferred() -> Iterator[None]:
    """Write the readings recorded inside the block once, as it ends (also after an
    error: they are what the network said, whatever became of the work).

    Only the latest reading of each window is written. Nothing inside the block sees
    the readings before then: the look-ups that use them (`rate_limited_until`) are
    made before a batch starts, and a 429 met inside it is handled as an answer.
    """
    waiting: list[tuple[str, WindowReading, datetime]] = []
    token = _deferred.set(waiting)
    try:
        yield
    finally:
        _deferred.reset(token)
        latest = {
            (network, *_identity(reading)): (network, reading, now)
            for network, reading, now in waiting
        }
        _upsert(list(latest.values()))


def _identity(reading: WindowReading) -> tuple[str, str, str]:
    return reading.key, reading.endpoint, reading.window


def _upsert(readings: list[tuple[str, WindowReading, datetime]]) -> None:
    """One INSERT … ON CONFLICT UPDATE a row, all in one round trip. Every writer
    writes the rows in the same order (by window identity): workers publishing at
    once all write the app's window, and rows taken in different orders by two
    transactions could deadlock."""
    rows_upsert(
        model=RateLimitWindow,
        rows=[
            {
                "network": network,
                "key": reading.key,
                "endpoint": reading.endpoint,
                "window": reading.window,
                "limit": reading.limit,
                "remaining": reading.remaining,
                "resets_at": reading.resets_at,
                "updated_at": now,
            }
            for network, reading, now in sorted(
                readings, key=lambda item: (item[0], *_identity(item[1]))
            )
        ],
        unique=["network", "key", "endpoint", "window"],
        update=["limit", "remaining", "resets_at", "updated_at"],
    )


def rate_limited_until(
    *, network: str, account_id: int, endpoint: str, now: datetime
) -> datetime | None:
    """When the account may call `endpoint` again, or None if no window covering it is spent.

    Several spent windows (the 15-minute one and a 24-hour one) mean waiting for
    the latest of their resets.
    """
    return rate_limited_until_by_account(
        network=network, account_ids=[account_id], endpoint=endpoint, now=now
    ).get(account_id)


def rate_limited_until_by_account(
    *, network: str, account_ids: Iterable[int], endpoint: str, now: datetime
) -> dict[int, datetime]:
    """`rate_limited_until` for many accounts of one network in one query: the accounts
    held back, each with the time it may call `endpoint` again."""
    account_ids = set(account_ids)
    spent = dict(
        RateLimitWindow.objects.filter(
            Q(key__in=[account_key(account_id) for account_id in account_ids]) | Q(key=APP_KEY),
            network=network,
            endpoint=endpoint,
            remaining=0,
            resets_at__gt=now,
        )
        .values("key")
        .annotate(until=Max("resets_at"))
        .values_list("key", "until")
    )
    app_until = spent.get(APP_KEY)
    held = {}
    for account_id in account_ids:
        resets = [until for until in (spent.get(account_key(account_id)), app_until) if until]
        if resets:
            held[account_id] = max(resets)
    return held
