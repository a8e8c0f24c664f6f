"""Injected failures: rules for the next N matching requests, or seeded per-request odds.

A `Fault` is decided once per request, before any state changes, so that
`refuse_before_accept` can promise nothing was created and `accept_then_drop` can promise
the opposite.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fakex.wire import Response

FaultKind = Literal["latency", "status", "accept_then_drop", "refuse_before_accept"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "latency",
    "status",
    "accept_then_drop",
    "refuse_before_accept",
)
INJECTABLE_STATUSES = (429, 500, 502, 503, 504)
# How a refused request looks to the client: the socket closes, or a load balancer says 503.
RefuseMode = Literal["close", "503"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    latency_ms: int = 0
    status: int = 503
    refuse_mode: RefuseMode = "close"


@dataclass(frozen=True)
class FaultMatch:
    """Empty fields match everything."""

    method: str | None = None
    path_prefix: str | None = None
    user_id: str | None = None

    def matches(self, *, method: str, path: str, user_id: str | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.path_prefix is None or path.startswith(self.path_prefix))
            and (self.user_id is None or self.user_id == user_id)
        )


@dataclass
class FaultRule:
    fault: Fault
    match: FaultMatch
    remaining: int


@dataclass
class FaultRates:
    """Probability per kind; one draw per matching request keeps a seeded run repeatable."""

    probabilities: dict[FaultKind, float]
    match: FaultMatch
    seed: int
    latency_ms: int = 200
    statuses: tuple[int, ...] = (500, 503)
    refuse_mode: RefuseMode = "close"
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self) -> Fault | None:
        roll = self._random.random()
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += self.probabilities.get(kind, 0.0)
            if roll < threshold:
                status = self._random.choice(self.statuses) if kind == "status" else 503
                return Fault(
                    kind=kind,
                    latency_ms=self.latency_ms,
                    status=status,
                    refuse_mode=self.refuse_mode,
                )
        return None


class FaultPlan:
    """Rules first (in the order they were added), then rates. The caller holds the lock."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self.rates: FaultRates | None = None

    def add_rule(self, rule: FaultRule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()
        self.rates = None

    def fault_for(self, *, method: str, path: str, user_id: str | None) -> Fault | None:
        for rule in self.rules:
            if rule.match.matches(method=method, path=path, user_id=user_id):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return rule.fault
        if self.rates and self.rates.match.matches(method=method, path=path, user_id=user_id):
            return self.rates.draw()
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "rules": [
                {
                    "kind": rule.fault.kind,
                    "remaining": rule.remaining,
                    "method": rule.match.method,
                    "path_prefix": rule.match.path_prefix,
                    "user_id": rule.match.user_id,
                }
                for rule in self.rules
            ],
            "rates": None
            if self.rates is None
            else {"seed": self.rates.seed, "probabilities": self.rates.probabilities},
        }


def fault_applied(
    fault: Fault, answer: Callable[[], Response], *, error_for: Callable[[int], Response]
) -> Response | None:
    """What a fake answers under `fault`: the answer late, the answer made and then lost
    (None: close the connection), nothing made (closed, or a 503), or an injected status.
    `error_for(status)` is the network's own body for a 429 or a 5xx."""
    if fault.kind == "latency":
        time.sleep(fault.latency_ms / 1000)
        return answer()
    if fault.kind == "accept_then_drop":
        answer()
        return None
    if fault.kind == "refuse_before_accept" and fault.refuse_mode == "close":
        return None
    return error_for(503 if fault.kind == "refuse_before_accept" else fault.status)
