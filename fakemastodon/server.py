"""The HTTP face of the fake instance: routes, the request pipeline, and the socket server.

Pipeline of an API request: fault decision, bearer token (401), disabled login and
scope (403), throttles (429), then the endpoint. The fault rules, the route table
and the request/response shapes are fakex's, shared by every fake network.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from fakemastodon import api, oauth
from fakemastodon.api import ListQueryRequest, error
from fakemastodon.control_api import CONTROL_ROUTES, ControlError
from fakemastodon.ratelimits import Reading
from fakemastodon.state import Caller, World
from fakex.faults import Fault, fault_applied
from fakex.routing import Route, find_route
from fakex.server import FakeXRequestHandler, FakeXServer
from fakex.wire import Request, Response

INVALID_TOKEN = "The access token is invalid"
OUTSIDE_SCOPES = "This action is outside the authorized scopes"
LOGIN_DISABLED = "Your login is currently disabled"
TOO_MANY_REQUESTS = "Too many requests"
UNAVAILABLE = "There was a temporary problem serving your request, please try again"


@dataclass(frozen=True)
class Access:
    """Who may call a route: the scopes that allow it (any one), whether a token is
    required, and which throttles it counts against."""

    scopes: frozenset[str] = frozenset()
    required: bool = True
    throttles: tuple[str, ...] = ("api",)


def _scope(*names: str) -> frozenset[str]:
    # A top-level scope ("write") covers its parts ("write:statuses").
    return frozenset({*names, *(name.split(":")[0] for name in names)})


WRITE_STATUSES = Access(_scope("write:statuses"))
READ_STATUSES = Access(_scope("read:statuses"), required=False)

API_ROUTES: list[tuple[Route, Access | None]] = [
    (Route("GET", "/api/v2/instance", api.instance), None),
    (Route("POST", "/api/v1/apps", oauth.app_create), None),
    (Route("GET", "/oauth/authorize", oauth.authorize), None),
    (Route("POST", "/oauth/token", oauth.token), None),
    (Route("POST", "/oauth/revoke", oauth.revoke), None),
    (
        Route("POST", "/api/v1/statuses", api.status_create),
        Access(WRITE_STATUSES.scopes, throttles=("api", "statuses")),
    ),
    (
        Route("DELETE", "/api/v1/statuses/:id", api.status_delete),
        Access(WRITE_STATUSES.scopes, throttles=("api", "delete_status")),
    ),
    (Route("GET", "/api/v1/statuses/:id", api.status_get), READ_STATUSES),
    (Route("GET", "/api/v1/statuses", api.statuses_get), READ_STATUSES),
    (
        Route("GET", "/api/v1/accounts/verify_credentials", api.verify_credentials),
        Access(_scope("profile", "read:accounts")),
    ),
    (Route("GET", "/api/v1/accounts/:id/statuses", api.account_statuses), READ_STATUSES),
    (
        Route("POST", "/api/v2/media", api.media_create),
        Access(_scope("write:media"), throttles=("api", "media")),
    ),
    (Route("GET", "/api/v1/media/:id", api.media_get), Access(_scope("write:media"))),
]
_ACCESS = {route.name: access for route, access in API_ROUTES}
_ROUTES = [route for route, _ in API_ROUTES]
_CONTROL_PREFIX = "/_fake/"
# Who an unauthenticated request is counted as: every one comes from the same address.
_ANONYMOUS = "ip"


class FakeMastodon:
    """Turns a Request into a Response, or into None: close the connection, answer nothing."""

    def __init__(self, world: World) -> None:
        self.world = world

    def handle(self, request: Request) -> Response | None:
        if request.path.startswith(_CONTROL_PREFIX):
            return self._control(request)
        route = find_route(_ROUTES, request)
        if route is None:
            return self._finish("unmatched", error(404, api.NOT_FOUND))
        bearer = _bearer_token(request)
        with self.world.lock:
            caller = self.world.caller_for(bearer)
            fault = self.world.faults.fault_for(
                method=request.method,
                path=request.path,
                user_id=caller.account_id if caller else None,
            )
            if fault is not None:
                self.world.stats.faults[fault.kind] += 1
        answer = lambda: self._answer(route, request, bearer)  # noqa: E731
        if fault is None:
            return self._finish(route.name, answer())
        return self._finish(route.name, self._with_fault(route, caller, fault, answer))

    def _answer(self, route: Route, request: Request, bearer: str | None) -> Response:
        access = _ACCESS[route.name]
        world = self.world
        if access is None:
            return route.handler(world, request)
        with world.lock:
            caller = world.caller_for(bearer)
            if caller is None and (bearer or access.required):
                return error(401, INVALID_TOKEN)
            refusal = _refusal(world, access, caller)
            if refusal is not None:
                return refusal
            who = caller.account_id if caller else _ANONYMOUS
            admitted, reading = world.limiter.admit(access.throttles, who=who, now=world.now())
        if not admitted:
            return _with_reading(error(429, TOO_MANY_REQUESTS), reading)
        return _with_reading(route.handler(world, request, caller), reading)

    def _with_fault(
        self,
        route: Route,
        caller: Caller | None,
        fault: Fault,
        answer: Callable[[], Response],
    ) -> Response | None:
        def error_for(status: int) -> Response:
            if status != 429:
                return error(status, UNAVAILABLE)  # [inf] the same words for every 5xx
            access = _ACCESS[route.name]
            with self.world.lock:
                reading = self.world.limiter.peek(
                    access.throttles if access else ("api",),
                    who=caller.account_id if caller else _ANONYMOUS,
                    now=self.world.now(),
                )
            spent = Reading(limit=reading.limit, remaining=0, resets_at=reading.resets_at)
            return _with_reading(error(429, TOO_MANY_REQUESTS), spent)

        return fault_applied(fault, answer, error_for=error_for)

    def _control(self, request: Request) -> Response:
        route = find_route(CONTROL_ROUTES, request)
        if route is None:
            return error(404, api.NOT_FOUND)
        try:
            return route.handler(self.world, request)
        except ControlError as problem:
            return Response(problem.status, {"error": str(problem)})
        except (KeyError, TypeError, ValueError) as problem:
            return Response(400, {"error": f"malformed control request: {problem!r}"})

    def unmetered(self, response: Response) -> Response:
        """What fakex's handler answers by itself (a request it cannot read, a bug in the
        fake), in Mastodon's words: `{"error": ...}`."""
        body = response.body if isinstance(response.body, dict) else {}
        return error(response.status, str(body.get("title") or body.get("error") or "Error"))

    def _finish(self, endpoint: str, response: Response | None) -> Response | None:
        outcome = "connection_closed" if response is None else str(response.status)
        with self.world.lock:
            self.world.stats.count_request(endpoint, outcome)
        return response


def _refusal(world: World, access: Access, caller: Caller | None) -> Response | None:
    if caller is None:
        return None
    if world.accounts[caller.account_id].disabled:
        return error(403, LOGIN_DISABLED)
    if access.scopes and not access.scopes & set(caller.scopes):
        return error(403, OUTSIDE_SCOPES)
    return None


def _with_reading(response: Response, reading: Reading) -> Response:
    response.headers.update(reading.headers())
    return response


def _bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.header("authorization").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


class FakeMastodonRequestHandler(FakeXRequestHandler):
    """fakex's handler (keep-alive, the request read whole, a fake's bug answered 500),
    with Mastodon's headers and every repeated query parameter kept."""

    server_version = "Mastodon"
    server: FakeMastodonServer

    def _read_request(self) -> Request:
        request = super()._read_request()
        query_lists = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        return ListQueryRequest(**vars(request), query_lists=query_lists)

    def _send(self, response: Response, started: float) -> None:
        payload = response.encoded_body()
        self.send_response(response.status)
        headers = {
            "content-type": response.content_type,
            "content-length": str(len(payload)),
            "x-request-id": str(uuid.uuid4()),
            **response.headers,
            "x-runtime": f"{time.perf_counter() - started:.6f}",
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class FakeMastodonServer(FakeXServer):
    """fakex's threading server (its binding and `url`), answering as Mastodon."""

    def __init__(
        self, address: tuple[str, int], fake: FakeMastodon, *, verbose: bool = False
    ) -> None:
        self.fake = fake
        self.verbose = verbose
        ThreadingHTTPServer.__init__(self, address, FakeMastodonRequestHandler)


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> FakeMastodonServer:
    """A bound server (port 0 picks a free one); call serve_forever() to start answering."""
    return FakeMastodonServer((host, port), FakeMastodon(World()), verbose=verbose)
