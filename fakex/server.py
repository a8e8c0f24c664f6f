"""The HTTP face of the fake: routes, the request pipeline, headers, and the socket server.

Pipeline of a user-context X request: fault decision, bearer token (401), scope (403),
credits (402), usage cap (429), rate-limit windows (429), then the endpoint. X does not
document its order; this one keeps every refusal from counting against a window [inf].
"""

from __future__ import annotations

import dataclasses
import os
import socketserver
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fakex import lookups, media, oauth, posts, problems
from fakex.control_api import CONTROL_ROUTES, ControlError
from fakex.faults import Fault
from fakex.ratelimits import WindowReading, WindowUse, readings_headers, unmetered_reading
from fakex.routing import Route, find_route
from fakex.state import Caller, World
from fakex.wire import Request, Response

API_VERSION = "2.166"

_WRITE_SCOPES = frozenset({"tweet.read", "tweet.write", "users.read"})
_READ_SCOPES = frozenset({"tweet.read", "users.read"})
_MEDIA_SCOPES = frozenset({"media.write"})


def _window(name: str) -> tuple[WindowUse, ...]:
    return (WindowUse(name),)


API_ROUTES = [
    Route(
        "POST",
        "/2/tweets",
        posts.create_post,
        scopes=_WRITE_SCOPES,
        windows=(
            WindowUse("create_post_per_user_15min"),
            WindowUse("create_post_per_user_24h", "x-user-limit-24hour"),
            WindowUse("create_post_per_app_24h", "x-app-limit-24hour"),
        ),
    ),
    Route(
        "DELETE",
        "/2/tweets/:id",
        posts.delete_post,
        scopes=_WRITE_SCOPES,
        windows=_window("delete_post_per_user_15min"),
    ),
    Route(
        "GET",
        "/2/tweets",
        lookups.posts_lookup,
        scopes=_READ_SCOPES,
        windows=_window("post_lookup_per_user_15min"),
    ),
    Route(
        "GET", "/2/users/me", lookups.me, scopes=_READ_SCOPES, windows=_window("me_per_user_15min")
    ),
    Route(
        "GET",
        "/2/users/:id/tweets",
        lookups.user_posts,
        scopes=_READ_SCOPES,
        windows=_window("user_posts_per_user_15min"),
    ),
    Route(
        "POST",
        "/2/media/upload/initialize",
        media.initialize_upload,
        scopes=_MEDIA_SCOPES,
        windows=_window("media_initialize_per_user_15min"),
    ),
    Route(
        "POST",
        "/2/media/upload/:id/append",
        media.append_upload,
        scopes=_MEDIA_SCOPES,
        windows=_window("media_append_per_user_15min"),
    ),
    Route(
        "POST",
        "/2/media/upload/:id/finalize",
        media.finalize_upload,
        scopes=_MEDIA_SCOPES,
        windows=_window("media_finalize_per_user_15min"),
    ),
    Route(
        "GET",
        "/2/media/upload",
        media.upload_status,
        scopes=_MEDIA_SCOPES,
        windows=_window("media_status_per_user_15min"),
    ),
    Route(
        "POST",
        "/2/media/upload",
        media.one_shot_upload,
        scopes=_MEDIA_SCOPES,
        windows=_window("media_upload_per_user_15min"),
    ),
    Route(
        "POST",
        "/2/media/metadata",
        media.create_metadata,
        scopes=_MEDIA_SCOPES,
        windows=_window("media_metadata_per_user_15min"),
    ),
    Route("GET", "/i/oauth2/authorize", oauth.authorize),
    Route("POST", "/2/oauth2/token", oauth.token),
    Route("POST", "/2/oauth2/revoke", oauth.revoke),
]
_CONTROL_PREFIX = "/_fake/"


class FakeX:
    """Turns a Request into a Response, or into None: close the connection, answer nothing."""

    def __init__(self, world: World) -> None:
        self.world = world

    def handle(self, request: Request) -> Response | None:
        if request.path.startswith(_CONTROL_PREFIX):
            return self._control(request)
        route = find_route(API_ROUTES, request)
        if route is None:
            return self._finish("unmatched", self.unmetered(problems.page_not_found()))

        bearer = _bearer_token(request)
        with self.world.lock:
            caller = self.world.caller_for(bearer)
            fault = self.world.faults.fault_for(
                method=request.method,
                path=request.path,
                user_id=caller.user_id if caller else None,
            )
            if fault is not None:
                self.world.stats.faults[fault.kind] += 1
        if fault is None:
            return self._finish(route.name, self._answer(route, request, bearer))
        return self._finish(
            route.name, self._answer_with_fault(route, request, bearer, caller, fault)
        )

    def _answer(self, route: Route, request: Request, bearer: str | None) -> Response:
        if not route.user_context:
            return self.unmetered(route.handler(self.world, request))
        world = self.world
        with world.lock:
            caller = world.caller_for(bearer)
            if caller is None:
                return _with_readings(problems.unauthorized(), self._peek(route, None))
            refusal = self._refusal(route, caller)
            if refusal is not None:
                return refusal
            admitted, readings = world.limiter.admit(
                route.windows, user_id=caller.user_id, app_id=caller.app_id, now=world.now()
            )
        if not admitted:
            return _with_readings(problems.too_many_requests(), readings)
        return _with_readings(route.handler(world, request, caller), readings)

    def _refusal(self, route: Route, caller: Caller) -> Response | None:
        """Answers that come before the endpoint runs and count against no window."""
        world = self.world
        if not route.scopes <= set(caller.scopes):
            refusal = problems.missing_scope()
        elif world.settings.credits_depleted:
            refusal = problems.credits_depleted(world.problem_host)
        elif world.settings.usage_capped:
            refusal = problems.usage_capped(world.problem_host)
        else:
            return None
        return _with_readings(refusal, self._peek(route, caller))

    def _answer_with_fault(
        self,
        route: Route,
        request: Request,
        bearer: str | None,
        caller: Caller | None,
        fault: Fault,
    ) -> Response | None:
        if fault.kind == "latency":
            time.sleep(fault.latency_ms / 1000)
            return self._answer(route, request, bearer)
        if fault.kind == "accept_then_drop":
            self._answer(route, request, bearer)
            return None
        if fault.kind == "refuse_before_accept" and fault.refuse_mode == "close":
            return None
        status = 503 if fault.kind == "refuse_before_accept" else fault.status
        with self.world.lock:
            readings = self._peek(route, caller)
        if status == 429:
            # An injected 429 looks like a spent 15-minute window.
            readings[0] = dataclasses.replace(readings[0], remaining=0)
            return _with_readings(problems.too_many_requests(), readings)
        return _with_readings(problems.server_error(status), readings)

    def _peek(self, route: Route, caller: Caller | None) -> list[WindowReading]:
        if not route.windows:
            return [unmetered_reading(self.world.now())]
        return self.world.limiter.peek(
            route.windows,
            user_id=caller.user_id if caller else None,
            app_id=caller.app_id if caller else None,
            now=self.world.now(),
        )

    def _control(self, request: Request) -> Response:
        route = find_route(CONTROL_ROUTES, request)
        if route is None:
            return self.unmetered(problems.page_not_found())
        try:
            response = route.handler(self.world, request)
        except ControlError as error:
            response = Response(error.status, {"error": str(error)})
        except (KeyError, TypeError, ValueError) as error:
            response = Response(400, {"error": f"malformed control request: {error!r}"})
        return self.unmetered(response)

    def unmetered(self, response: Response) -> Response:
        """The response with the headers of a window that is reported, never enforced."""
        with self.world.lock:
            now = self.world.now()
        return _with_readings(response, [unmetered_reading(now)])

    def _finish(self, endpoint: str, response: Response | None) -> Response | None:
        outcome = "connection_closed" if response is None else str(response.status)
        with self.world.lock:
            self.world.stats.count_request(endpoint, outcome)
        return response


def _with_readings(response: Response, readings: list[WindowReading]) -> Response:
    response.headers.update(readings_headers(readings))
    return response


def _bearer_token(request: Request) -> str | None:
    scheme, _, credentials = request.header("authorization").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


class FakeXRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries a content-length
    server_version = "fakex"
    # Headers and body go out as two writes; without this, Nagle plus delayed ACKs can
    # stall each keep-alive answer by 40 ms.
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection gives its thread back
    server: FakeXServer

    def do_GET(self) -> None:
        started = time.perf_counter()
        try:
            request = self._read_request()
        except ValueError:
            # Without a usable content-length the stream cannot be read past this request.
            self.close_connection = True
            bad_request = Response(400, problems.about_blank(400, "Bad Request", "Bad Request"))
            self._send(self.server.fake.unmetered(bad_request), started)
            return
        try:
            response = self.server.fake.handle(request)
        except Exception:
            # A bug in the fake must be loud, and still answer like X's own 500.
            traceback.print_exc(file=sys.stderr)
            response = self.server.fake.unmetered(problems.server_error(500))
        if response is None:
            self.close_connection = True
            return
        self._send(response, started)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_request(self) -> Request:
        length = int(self.headers.get("content-length") or 0)
        return Request.from_target(
            method=self.command,
            target=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
        )

    def _send(self, response: Response, started: float) -> None:
        payload = response.encoded_body()
        self.send_response(response.status)
        headers = {
            "content-type": response.content_type,
            "content-length": str(len(payload)),
            "api-version": API_VERSION,
            "x-transaction-id": os.urandom(8).hex(),
            **response.headers,
            "x-response-time": str(round((time.perf_counter() - started) * 1000)),
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class FakeXServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default of 5 drops connections under a burst

    def __init__(self, address: tuple[str, int], fake: FakeX, *, verbose: bool = False) -> None:
        self.fake = fake
        self.verbose = verbose
        super().__init__(address, FakeXRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name with getfqdn(), which can wait on DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    profile: str = "pro",
    problem_host: str = problems.TWITTER_PROBLEM_HOST,
    verbose: bool = False,
) -> FakeXServer:
    """A bound server (port 0 picks a free one); call serve_forever() to start answering."""
    world = World(profile=profile, problem_host=problem_host)
    return FakeXServer((host, port), FakeX(world), verbose=verbose)
