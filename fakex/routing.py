"""Route table entries: a method, a path template with `:name` parameters, a handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from fakex.ratelimits import WindowUse
from fakex.wire import Request, Response


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. "/2/tweets/:id"
    handler: Callable[..., Response]
    # Scopes make it a user-context X endpoint: bearer token required, handler gets a Caller.
    scopes: frozenset[str] = frozenset()
    windows: tuple[WindowUse, ...] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r":(\w+)", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(regex + r"\Z"))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def user_context(self) -> bool:
        return bool(self.scopes)


def find_route(routes: list[Route], request: Request) -> Route | None:
    """The matching route, with its path parameters stored on the request."""
    for route in routes:
        if route.method != request.method:
            continue
        matched = route.pattern.match(request.path)
        if matched:
            request.path_params = matched.groupdict()
            return route
    return None
