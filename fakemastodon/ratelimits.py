"""Mastodon's throttles (Rack::Attack): fixed windows aligned to the clock, per account.

A request counts against every throttle of its route; the `X-RateLimit-*` headers
describe the one with the fewest requests left, its reset as an ISO 8601 instant
with microseconds (`2020-09-08T13:25:00.019685Z`, as instances send it). Defaults
are Mastodon's (reference/networks.md): 300 requests per 5 minutes for any
authenticated API call, 300 statuses per 3 hours, 30 media uploads and 30 status
deletions per 30 minutes. A refused request (429) does not count [inf].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class Limit:
    limit: int
    period_seconds: int


DEFAULT_LIMITS: dict[str, Limit] = {
    "api": Limit(300, 5 * 60),
    "statuses": Limit(300, 3 * 60 * 60),
    "media": Limit(30, 30 * 60),
    "delete_status": Limit(30, 30 * 60),
}


@dataclass(frozen=True)
class Reading:
    limit: int
    remaining: int
    resets_at: float

    def headers(self) -> dict[str, str]:
        reset = datetime.fromtimestamp(self.resets_at, tz=UTC)
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }


class RateLimiter:
    """Counts per (throttle, who, window start). The caller holds the world's lock."""

    def __init__(self) -> None:
        self.limits = {
            name: Limit(limit.limit, limit.period_seconds) for name, limit in DEFAULT_LIMITS.items()
        }
        self._counts: dict[tuple[str, str, int], int] = {}

    def set_limit(self, name: str, *, limit: int, period_seconds: int | None = None) -> None:
        current = self.limits[name]
        self.limits[name] = Limit(limit, period_seconds or current.period_seconds)

    def admit(self, throttles: tuple[str, ...], *, who: str, now: float) -> tuple[bool, Reading]:
        """Count the request against every throttle, unless one is spent."""
        readings = [self._reading(name, who, now) for name in throttles]
        spent = [reading for reading in readings if reading.remaining <= 0]
        if spent:
            return False, max(spent, key=lambda reading: reading.resets_at)
        for name in throttles:
            key = self._key(name, who, now)
            self._counts[key] = self._counts.get(key, 0) + 1
        return True, min(
            (self._reading(name, who, now) for name in throttles),
            key=lambda reading: reading.remaining,
        )

    def peek(self, throttles: tuple[str, ...], *, who: str, now: float) -> Reading:
        return min(
            (self._reading(name, who, now) for name in throttles),
            key=lambda reading: reading.remaining,
        )

    def _key(self, name: str, who: str, now: float) -> tuple[str, str, int]:
        return (name, who, int(now // self.limits[name].period_seconds))

    def _reading(self, name: str, who: str, now: float) -> Reading:
        limit = self.limits[name]
        window = int(now // limit.period_seconds)
        used = self._counts.get((name, who, window), 0)
        return Reading(
            limit=limit.limit,
            remaining=max(limit.limit - used, 0),
            resets_at=float((window + 1) * limit.period_seconds),
        )
