"""Fixed rate-limit windows, X style: a window opens at its first request and resets whole.

Every request that gets past authentication counts against all of its route's windows,
whatever the answer (X counted a duplicate-content 403 too). A refused request (429) does
not count. These are [inf]: X documents the limits, not the bookkeeping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

FIFTEEN_MINUTES = 15 * 60
ONE_DAY = 24 * 60 * 60

Subject = Literal["user", "app"]


@dataclass(frozen=True)
class Limit:
    limit: int
    period_seconds: int
    per: Subject = "user"


@dataclass(frozen=True)
class WindowUse:
    """Which window a route draws from, and under which header prefix it is reported."""

    name: str
    header_prefix: str = "x-rate-limit"


def _per_user_15min(limit: int) -> Limit:
    return Limit(limit, FIFTEEN_MINUTES)


# platforms.md §2 and §3.2. Endpoints other than POST /2/tweets have one table for everyone.
_SHARED_LIMITS: dict[str, Limit] = {
    "delete_post_per_user_15min": _per_user_15min(50),
    # [inf] not in platforms.md; the figure X has long published for user timelines.
    "user_posts_per_user_15min": _per_user_15min(900),
    "post_lookup_per_user_15min": _per_user_15min(5000),
    "me_per_user_15min": _per_user_15min(75),
    "media_upload_per_user_15min": _per_user_15min(500),
    "media_initialize_per_user_15min": _per_user_15min(1875),
    "media_append_per_user_15min": _per_user_15min(1875),
    "media_finalize_per_user_15min": _per_user_15min(1875),
    "media_status_per_user_15min": _per_user_15min(1000),
    # [inf] not in platforms.md; rate-limits.mdx (2026-07) is quoted second-hand as
    # giving POST /2/media/metadata 500 per 15 minutes per user.
    "media_metadata_per_user_15min": _per_user_15min(500),
}

PROFILES: dict[str, dict[str, Limit]] = {
    "pro": {
        "create_post_per_user_15min": _per_user_15min(100),
        # [inf] Pro has no per-user daily cap; X still sends the header, so the fake reports
        # one that 100 per 15 minutes can never reach before the app cap.
        "create_post_per_user_24h": Limit(10_000, ONE_DAY),
        "create_post_per_app_24h": Limit(10_000, ONE_DAY, per="app"),
        **_SHARED_LIMITS,
    },
    "basic": {
        # [inf] Basic has only the daily caps; a 15-minute window of the same size keeps the
        # x-rate-limit-* headers meaningful without ever being the one that refuses.
        "create_post_per_user_15min": _per_user_15min(100),
        "create_post_per_user_24h": Limit(100, ONE_DAY),
        "create_post_per_app_24h": Limit(1_667, ONE_DAY, per="app"),
        **_SHARED_LIMITS,
    },
}

# [inf] Routes X documents no limit for (OAuth, the control API) still carry the headers
# clients read; this window is reported and never enforced.
UNMETERED = Limit(100_000, FIFTEEN_MINUTES)


@dataclass
class _Window:
    opened_at: float
    used: int = 0


@dataclass(frozen=True)
class WindowReading:
    header_prefix: str
    limit: int
    remaining: int
    reset_at: float

    @property
    def spent(self) -> bool:
        return self.remaining <= 0

    def headers(self) -> dict[str, str]:
        return {
            f"{self.header_prefix}-limit": str(self.limit),
            f"{self.header_prefix}-remaining": str(self.remaining),
            f"{self.header_prefix}-reset": str(math.ceil(self.reset_at)),
        }


def readings_headers(readings: list[WindowReading]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for reading in readings:
        headers.update(reading.headers())
    return headers


def unmetered_reading(now: float) -> WindowReading:
    return WindowReading(
        "x-rate-limit", UNMETERED.limit, UNMETERED.limit, now + UNMETERED.period_seconds
    )


class RateLimiter:
    """Window bookkeeping. Not locked: the caller holds the fake's state lock."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.limits: dict[str, Limit] = dict(PROFILES[profile])
        self._windows: dict[tuple[str, str], _Window] = {}

    def use_profile(self, profile: str) -> None:
        self.profile = profile
        self.limits = dict(PROFILES[profile])

    def set_limit(self, name: str, *, limit: int, period_seconds: int | None = None) -> None:
        current = self.limits[name]
        self.limits[name] = Limit(limit, period_seconds or current.period_seconds, current.per)

    def admit(
        self, uses: tuple[WindowUse, ...], *, user_id: str, app_id: str, now: float
    ) -> tuple[bool, list[WindowReading]]:
        """Count one request against every window, unless one of them is already spent."""
        keys = [self._key(use.name, user_id, app_id) for use in uses]
        windows = [self._live_window(key, now) or _Window(opened_at=now) for key in keys]
        readings = self._read(uses, windows)
        if any(reading.spent for reading in readings):
            return False, readings
        for key, window in zip(keys, windows, strict=True):
            window.used += 1
            self._windows[key] = window
        return True, self._read(uses, windows)

    def peek(
        self, uses: tuple[WindowUse, ...], *, user_id: str | None, app_id: str | None, now: float
    ) -> list[WindowReading]:
        """Readings without counting; a caller we cannot identify sees fresh windows."""
        if user_id is None or app_id is None:
            windows = [_Window(opened_at=now) for _ in uses]
        else:
            keys = [self._key(use.name, user_id, app_id) for use in uses]
            windows = [self._live_window(key, now) or _Window(opened_at=now) for key in keys]
        return self._read(uses, windows)

    def _key(self, name: str, user_id: str, app_id: str) -> tuple[str, str]:
        return (name, user_id if self.limits[name].per == "user" else app_id)

    def _live_window(self, key: tuple[str, str], now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is None or now >= window.opened_at + self.limits[key[0]].period_seconds:
            return None
        return window

    def _read(self, uses: tuple[WindowUse, ...], windows: list[_Window]) -> list[WindowReading]:
        readings = []
        for use, window in zip(uses, windows, strict=True):
            limit = self.limits[use.name]
            readings.append(
                WindowReading(
                    header_prefix=use.header_prefix,
                    limit=limit.limit,
                    remaining=max(0, limit.limit - window.used),
                    reset_at=window.opened_at + limit.period_seconds,
                )
            )
        return readings
