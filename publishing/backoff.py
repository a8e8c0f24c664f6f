"""When to try again after a retryable failure: exponential, capped, jittered, bounded."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class BackoffSchedule:
    base: timedelta = timedelta(seconds=60)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    # Each delay is stretched by up to this fraction at random, so jobs that failed
    # together (a network outage) do not all come back in the same second.
    jitter: float = 0.1
    max_attempts: int = 5

    def delay(self, *, attempt: int, rng: random.Random | None = None) -> timedelta:
        """How long to wait after failed attempt number `attempt` (1 for the first)."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        raw = min(self.base * self.factor ** (attempt - 1), self.cap)
        spread = (rng or random).uniform(0, self.jitter)
        return raw * (1 + spread)

    def next_attempt_at(
        self,
        *,
        attempt: int,
        now: datetime,
        not_before: datetime | None = None,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When attempt `attempt + 1` may start, or None when the attempts are spent.

        `not_before` is a time the network named (a rate-limit reset); the later of
        it and the backoff wins.
        """
        if attempt >= self.max_attempts:
            return None
        at = now + self.delay(attempt=attempt, rng=rng)
        return max(at, not_before) if not_before else at
