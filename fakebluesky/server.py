"""The HTTP face of the fake Bluesky: routes, the request pipeline, and the socket server.

Pipeline of an XRPC request: fault decision, session (401 AuthMissing, 400
ExpiredToken / InvalidToken, 401 AccountTakedown / AccountDeactivated), rate-limit windows (429
RateLimitExceeded), then the method. Every answer carries the RateLimit-* headers of
the window nearest to refusing, as the PDS does; a method with no window of its own
reports the PDS's per-IP window (3,000 per 5 minutes).

The socket side is fakex's (keep-alive, no Nagle, threads), with Bluesky's headers.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Literal

from fakebluesky import video, xrpc
from fakebluesky.control_api import CONTROL_ROUTES
from fakebluesky.state import WRITE_POINTS, Limit, LimitReading, World
from fakex.control_api import ControlError
from fakex.faults import Fault
from fakex.routing import Route, find_route
from fakex.server import FakeXRequestHandler, FakeXServer
from fakex.wire import Request, Response

Auth = Literal["", "access", "refresh"]
IP_WINDOW = "ip_5min"
IP_LIMIT = Limit(3_000, 5 * 60)
_WRITES = ("repo_write_hour", "repo_write_day")
_SESSIONS = ("create_session_5min", "create_session_day")
# The name XRPC gives each status a fault can inject.
_STATUS_ERRORS = {
    500: ("InternalServerError", "Internal Server Error"),
    502: ("UpstreamFailure", "Upstream Failure"),
    503: ("NotEnoughResources", "Not Enough Resources"),
    504: ("UpstreamTimeout", "Upstream Timeout"),
}


@dataclass(frozen=True)
class Method:
    http_method: str
    nsid: str
    handler: Callable[..., Response]
    auth: Auth = ""
    windows: tuple[str, ...] = ()
    points: int = 1

    @property
    def route(self) -> Route:
        return Route(self.http_method, f"/xrpc/{self.nsid}", self.handler)


METHODS = {
    method.nsid: method
    for method in (
        Method("POST", "com.atproto.server.createSession", xrpc.create_session, windows=_SESSIONS),
        Method("POST", "com.atproto.server.refreshSession", xrpc.refresh_session, auth="refresh"),
        Method(
            "POST",
            "com.atproto.repo.createRecord",
            xrpc.create_record,
            auth="access",
            windows=_WRITES,
            points=WRITE_POINTS["create"],
        ),
        Method(
            "POST",
            "com.atproto.repo.deleteRecord",
            xrpc.delete_record,
            auth="access",
            windows=_WRITES,
            points=WRITE_POINTS["delete"],
        ),
        Method("POST", "com.atproto.repo.uploadBlob", xrpc.upload_blob, auth="access"),
        Method("GET", "com.atproto.repo.getRecord", xrpc.get_record),
        Method("GET", "com.atproto.identity.resolveHandle", xrpc.resolve_handle),
        Method("GET", "app.bsky.actor.getProfile", xrpc.get_profile),
        Method("GET", "app.bsky.feed.getPosts", xrpc.get_posts),
        Method("GET", "com.atproto.server.getServiceAuth", video.get_service_auth, auth="access"),
        # The video service's, on the same port.
        Method("POST", "app.bsky.video.uploadVideo", video.upload_video),
        Method("GET", "app.bsky.video.getJobStatus", video.get_job_status),
    )
}
API_ROUTES = [method.route for method in METHODS.values()]
_CONTROL_PREFIX = "/_fake/"


class FakeBluesky:
    """Turns a Request into a Response, or into None: close the connection, answer nothing."""

    def __init__(self, world: World) -> None:
        self.world = world

    def handle(self, request: Request) -> Response | None:
        if request.path.startswith(_CONTROL_PREFIX):
            return self._control(request)
        route = find_route(API_ROUTES, request)
        if route is None:
            return self._finish(
                "unmatched",
                self.unmetered(
                    xrpc.xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")
                ),
            )
        method = METHODS[route.template.removeprefix("/xrpc/")]
        with self.world.lock:
            session = self.world.sessions.get(xrpc.bearer_token(request))
            fault = self.world.faults.fault_for(
                method=request.method,
                path=request.path,
                user_id=session.did if session else None,
            )
            if fault is not None:
                self.world.stats.faults[fault.kind] += 1
        if fault is None:
            return self._finish(route.name, self._answer(method, request))
        return self._finish(route.name, self._answer_with_fault(method, request, fault))

    def _answer(self, method: Method, request: Request) -> Response:
        world = self.world
        did = ""
        if method.auth:
            did, refusal = self._caller(method.auth, request)
            if refusal is not None:
                return self.unmetered(refusal)
        subject = did or self._session_subject(request)
        with world.lock:
            if method.windows:
                admitted, reading = world.limiter.take(
                    method.windows, subject=subject, points=method.points, now=world.now()
                )
            else:
                admitted, reading = True, self._ip_reading()
        if not admitted:
            return _with_reading(
                xrpc.xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded"), reading
            )
        response = (
            method.handler(world, request, did) if method.auth else method.handler(world, request)
        )
        return _with_reading(response, reading)

    def _caller(self, auth: Auth, request: Request) -> tuple[str, Response | None]:
        """The DID a session acts for, or the PDS's refusal of it."""
        token = xrpc.bearer_token(request)
        if not token:
            return "", xrpc.xrpc_error(401, "AuthMissing", "Authentication Required")
        with self.world.lock:
            session = self.world.sessions.get(token)
            if session is None:
                return "", xrpc.xrpc_error(400, "InvalidToken", "Token could not be verified")
            if session.expires_at <= self.world.now():
                return "", xrpc.xrpc_error(400, "ExpiredToken", "Token has expired")
            if session.scope != f"com.atproto.{auth}":
                return "", xrpc.xrpc_error(400, "InvalidToken", "Bad token scope")
            account = self.world.accounts.get(session.did)
            if account is None:
                return "", xrpc.xrpc_error(403, "AccountNotFound", "Account not found")
            if account.status == "takendown":
                return "", xrpc.xrpc_error(401, "AccountTakedown", "Account has been taken down")
            if account.status == "deactivated":
                return "", xrpc.xrpc_error(401, "AccountDeactivated", "Account is deactivated")
        return session.did, None

    def _session_subject(self, request: Request) -> str:
        """createSession is limited per account, named as the client named it."""
        try:
            return str((request.json() or {}).get("identifier", "")).lower()
        except (ValueError, AttributeError):
            return ""

    def _answer_with_fault(self, method: Method, request: Request, fault: Fault) -> Response | None:
        if fault.kind == "latency":
            time.sleep(fault.latency_ms / 1000)
            return self._answer(method, request)
        if fault.kind == "accept_then_drop":
            self._answer(method, request)
            return None
        if fault.kind == "refuse_before_accept" and fault.refuse_mode == "close":
            return None
        status = 503 if fault.kind == "refuse_before_accept" else fault.status
        with self.world.lock:
            reading = self._ip_reading()
        if status == 429:
            # An injected 429 looks like a spent window that resets in a minute.
            spent = dataclasses.replace(reading, remaining=0, resets_at=self.world.now() + 60)
            return _with_reading(
                xrpc.xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded"), spent
            )
        return _with_reading(xrpc.xrpc_error(status, *_STATUS_ERRORS[status]), reading)

    def _ip_reading(self) -> LimitReading:
        """The per-IP window: reported, never enforced [inf: tests come from one address]."""
        now = self.world.now()
        period = IP_LIMIT.period_seconds
        return LimitReading(
            name=IP_WINDOW,
            limit=IP_LIMIT.limit,
            remaining=IP_LIMIT.limit - 1,
            resets_at=now - now % period + period,
            period_seconds=period,
        )

    def _control(self, request: Request) -> Response:
        route = find_route(CONTROL_ROUTES, request)
        if route is None:
            return Response(404, {"error": f"no control route {request.method} {request.path}"})
        try:
            return route.handler(self.world, request)
        except ControlError as error:
            return Response(error.status, {"error": str(error)})
        except (KeyError, TypeError, ValueError) as error:
            return Response(400, {"error": f"malformed control request: {error!r}"})

    def unmetered(self, response: Response) -> Response:
        with self.world.lock:
            return _with_reading(response, self._ip_reading())

    def _finish(self, endpoint: str, response: Response | None) -> Response | None:
        outcome = "connection_closed" if response is None else str(response.status)
        with self.world.lock:
            self.world.stats.count_request(endpoint, outcome)
        return response


def _with_reading(response: Response, reading: LimitReading) -> Response:
    response.headers.update(reading.headers())
    return response


class FakeBlueskyRequestHandler(FakeXRequestHandler):
    server_version = "fakebluesky"
    server: FakeBlueskyServer

    def _read_request(self) -> Request:
        request = super()._read_request()
        return xrpc.XrpcRequest(**vars(request), query_lists=xrpc.query_lists(self.path))

    def _send(self, response: Response, started: float) -> None:
        payload = response.encoded_body()
        self.send_response(response.status)
        headers = {
            "content-type": response.content_type,
            "content-length": str(len(payload)),
            **response.headers,
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class FakeBlueskyServer(FakeXServer):
    def __init__(
        self, address: tuple[str, int], fake: FakeBluesky, *, verbose: bool = False
    ) -> None:
        self.fake = fake  # type: ignore[assignment]
        self.verbose = verbose
        ThreadingHTTPServer.__init__(self, address, FakeBlueskyRequestHandler)


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> FakeBlueskyServer:
    """A bound server (port 0 picks a free one); call serve_forever() to start answering."""
    return FakeBlueskyServer((host, port), FakeBluesky(World()), verbose=verbose)
