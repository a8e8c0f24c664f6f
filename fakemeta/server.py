"""The HTTP face of the fake Graph API: the request pipeline, sign-in, and the socket server.

Pipeline of an API request: the version prefix (`/v27.0/`) dropped, fault decision,
access token (400, code 190), usage counted and reported in `x-app-usage` /
`x-business-use-case-usage` (throttled past 100 %: codes 4, 32, 80002), then the
object or edge asked for. Fault rules and the request/response shapes are fakex's.

A media URL in a request is fetched before the world's lock is taken, as Meta
fetches it while the request waits.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from fakemeta import errors, graph
from fakemeta.control_api import CONTROL_ROUTES, ControlError
from fakemeta.state import (
    APP_ID,
    APP_SECRET,
    LONG_TOKEN_SECONDS,
    SHORT_TOKEN_SECONDS,
    AuthorizationCode,
    Token,
    World,
)
from fakex.faults import Fault, fault_applied
from fakex.media import parse_multipart
from fakex.routing import find_route
from fakex.server import FakeXRequestHandler, FakeXServer
from fakex.wire import Request, Response, parse_query

VERSION_PREFIX = re.compile(r"\A/v\d+(?:\.\d+)?(?=/)")
_CONTROL_PREFIX = "/_fake/"
CODE_LIFETIME = 600
# The most objects one multi-ID read (`GET /?ids=a,b` or `GET /<edge>?ids=a,b`) may name.
MAX_IDS = 50
# The query/body parameters that name a file Meta fetches.
MEDIA_URL_PARAMETERS = ("url", "file_url", "image_url", "video_url")
# Multipart fields that carry a file's bytes rather than text.
FILE_FIELDS = frozenset({"video_file_chunk", "source"})


def _injected_error(status: int) -> Response:
    """An injected 429 or 5xx in the Graph API's words."""
    if status != 429:
        return errors.server_error(status)
    # Graph never answers 429: a spent allowance is a 400 with code 4, and the usage
    # header at 100 %.
    throttled = errors.app_throttled()
    throttled.headers["x-app-usage"] = json.dumps(
        {"call_count": 100, "total_cputime": 100, "total_time": 100}
    )
    return throttled


class FakeMeta:
    """Turns a Request into a Response, or into None: close the connection, answer nothing."""

    def __init__(self, world: World) -> None:
        self.world = world

    def handle(self, request: Request) -> Response | None:
        if request.path.startswith(_CONTROL_PREFIX):
            return self._control(request)
        path = VERSION_PREFIX.sub("", request.path)
        params = _parameters(request)
        with self.world.lock:
            token = self.world.tokens.get(_access_token(request, params) or "")
            fault = self.world.faults.fault_for(
                method=request.method, path=path, user_id=token.user_id if token else None
            )
            if fault is not None:
                self.world.stats.faults[fault.kind] += 1
        endpoint = _endpoint_name(request.method, path)

        def answer() -> Response:
            return self._answer(request, path, params)

        if fault is None:
            return self._finish(endpoint, answer())
        return self._finish(endpoint, self._with_fault(fault, answer))

    # --- Sign-in -----------------------------------------------------------------------

    def _dialog(self, params: dict[str, Any]) -> Response:
        """GET /dialog/oauth: the person (set with the control's log_in) allows the app."""
        world = self.world
        redirect_uri = str(params.get("redirect_uri", ""))
        if params.get("client_id") != APP_ID or not redirect_uri:
            return errors.invalid_parameter("Invalid App ID or redirect_uri")
        asked = tuple(scope for scope in str(params.get("scope", "")).split(",") if scope)
        back = {"state": str(params.get("state", ""))}
        with world.lock:
            user_id = world.logged_in_user_id
            if user_id is None:
                back.update(error="access_denied", error_reason="user_denied")
            else:
                granted = world.granted_scopes
                scopes = asked if granted is None else tuple(s for s in asked if s in granted)
                code = secrets.token_urlsafe(24)
                world.codes[code] = AuthorizationCode(
                    user_id, redirect_uri, scopes, world.now() + CODE_LIFETIME
                )
                back["code"] = code
        separator = "&" if "?" in redirect_uri else "?"
        return Response(
            302, None, headers={"location": f"{redirect_uri}{separator}{urlencode(back)}"}
        )

    def _access_token(self, params: dict[str, Any]) -> Response:
        """GET /oauth/access_token: a code for a short-lived user token, or a short-lived
        token for a long-lived one (grant_type=fb_exchange_token)."""
        world = self.world
        if params.get("client_id") != APP_ID or params.get("client_secret") != APP_SECRET:
            return errors.graph_error(400, "Error validating client secret.", code=1, subcode=None)
        with world.lock:
            now = world.now()
            if params.get("grant_type") == "fb_exchange_token":
                short = world.tokens.get(str(params.get("fb_exchange_token", "")))
                if short is None or short.kind != "user":
                    return errors.invalid_token()
                if short.expires_at is not None and short.expires_at <= now:
                    return errors.expired_token(short.expires_at, now)
                value, token = world.issue_token(
                    kind="user",
                    user_id=short.user_id,
                    scopes=short.scopes,
                    lifetime=LONG_TOKEN_SECONDS,
                )
                world.stats.token_exchanges["long_lived"] += 1
                return Response(200, graph.token_answer(value, token, now))
            code = world.codes.pop(str(params.get("code", "")), None)
            if code is None or code.expires_at <= now:
                return errors.graph_error(
                    400, "This authorization code has expired.", code=100, subcode=36007
                )
            if code.redirect_uri != params.get("redirect_uri"):
                return errors.graph_error(
                    400,
                    "Can't load URL: The redirect_uri is not identical to the one used in the "
                    "OAuth dialog request",
                    code=100,
                    subcode=36008,
                )
            value, token = world.issue_token(
                kind="user",
                user_id=code.user_id,
                scopes=code.scopes,
                lifetime=SHORT_TOKEN_SECONDS,
            )
            world.stats.token_exchanges["code"] += 1
            return Response(200, graph.token_answer(value, token, now))

    # --- The API -----------------------------------------------------------------------

    def _answer(self, request: Request, path: str, params: dict[str, Any]) -> Response:
        if path == "/dialog/oauth" and request.method == "GET":
            return self._dialog(params)
        if path == "/oauth/access_token" and request.method == "GET":
            return self._access_token(params)
        world = self.world
        segments = [segment for segment in path.split("/") if segment]
        if "ids" in params and len(segments) <= 1 and request.method == "GET":
            return self._many(request, segments[0] if segments else "", params)
        if not segments or len(segments) > 2:
            return errors.not_found(path, request.method)
        media = _media_fetched(request.method, params)
        with world.lock:
            value = _access_token(request, params)
            if not value:
                return errors.no_token()
            token = world.tokens.get(value)
            if token is None or token.user_id not in world.users:
                return errors.invalid_token()
            now = world.now()
            if token.expires_at is not None and token.expires_at <= now:
                return errors.expired_token(token.expires_at, now)
            object_id = segments[0]
            if object_id == "me":
                object_id = token.page_id or token.user_id
            who, network = self._metered_as(object_id, token)
            app_share, object_share = world.count_call(who)
            headers = _usage_headers(world, who, network, app_share, object_share)
            if app_share > 100:
                return _with_headers(errors.app_throttled(), headers)
            if object_share > 100:
                return _with_headers(errors.page_throttled(network), headers)
            edge = segments[1] if len(segments) == 2 else ""
            here = f"http://{request.header('host')}{request.path[: -len(path)] if path else ''}"
            response = self._route(request.method, object_id, edge, params, token, media, here)
        return _with_headers(response, headers)

    def _many(self, request: Request, edge: str, params: dict[str, Any]) -> Response:
        """A multi-ID read: each object (or its `edge`) read as on its own, answered as one
        object keyed by id. Each id counts as a call against the limits; one object that
        does not exist fails the whole read (#803), any other refusal likewise."""
        object_ids = [item for item in str(params["ids"]).split(",") if item]
        if len(object_ids) > MAX_IDS:
            return errors.too_many_ids(MAX_IDS)
        one = {name: value for name, value in params.items() if name != "ids"}
        answers: dict[str, Any] = {}
        missing: list[str] = []
        response = Response(200, {})
        for object_id in object_ids:
            response = self._answer(request, f"/{object_id}/{edge}".rstrip("/"), one)
            error = (response.body or {}).get("error", {}) if response.status >= 300 else {}
            if error.get("error_subcode") == 33:
                missing.append(object_id)
            elif error:
                return response
            else:
                answers[object_id] = response.body
        if missing:
            return _with_headers(errors.aliases_missing(missing), response.headers)
        return Response(200, answers, headers=response.headers)

    def _metered_as(self, object_id: str, token: Token) -> tuple[str, str]:
        """Whose allowance a call spends: the Page's or Instagram account's (BUC), or the app's."""
        world = self.world
        if object_id in world.instagram_users:
            return object_id, "instagram"
        if object_id in world.pages:
            return object_id, "facebook"
        owner = world.posts.get(object_id) or world.containers.get(object_id)
        if owner is not None:
            owner_id = getattr(owner, "owner_id", None) or getattr(owner, "ig_user_id", "")
            return owner_id, "instagram" if owner_id in world.instagram_users else "facebook"
        return (token.page_id or "app"), "facebook"

    def _route(
        self,
        method: str,
        object_id: str,
        edge: str,
        params: dict[str, Any],
        token: Token,
        media: graph.Fetched | None,
        here: str,
    ) -> Response:
        world = self.world
        page = world.pages.get(object_id)
        account = world.instagram_users.get(object_id)
        if object_id in world.users and edge == "accounts" and method == "GET":
            return self._pages_of(object_id, token, params, here=here)
        if object_id in world.users and edge == "permissions" and method == "GET":
            return Response(
                200, {"data": [{"permission": s, "status": "granted"} for s in token.scopes]}
            )
        if page is not None and edge:
            refusal = _page_refusal(world, page.id, token, write=method == "POST")
            if refusal is not None:
                return refusal
            if method == "POST" and edge == "feed":
                return graph.page_feed_create(world, page, params)
            if method == "POST" and edge == "photos":
                return graph.page_photo_create(world, page, params, media)
            if method == "POST" and edge == "videos":
                return graph.page_video_create(world, page, params, media)
            if method == "GET" and edge in ("posts", "published_posts"):
                return graph.page_posts(world, page, params)
        if account is not None and edge:
            refusal = _instagram_refusal(world, account.page_id, token, write=method == "POST")
            if refusal is not None:
                return refusal
            if method == "POST" and edge == "media":
                return graph.container_create(world, account, params, media)
            if method == "POST" and edge == "media_publish":
                return graph.media_publish(world, account, params)
            if method == "GET" and edge == "media":
                return graph.instagram_media_list(world, account, params)
            if method == "GET" and edge == "content_publishing_limit":
                return graph.publishing_limit(world, account)
        post = world.posts.get(object_id)
        if post is not None and not post.deleted and edge == "insights" and method == "GET":
            needed = graph.READ_INSIGHTS if post.network == "facebook" else graph.INSTAGRAM_INSIGHTS
            if needed not in token.scopes:
                return errors.needs_permission(needed)
            return graph.post_insights(world, post, params)
        if not edge and method == "GET":
            shown = graph.object_fields(world, object_id, token)
            if shown is None:
                return errors.not_found(object_id)
            if page is not None and "access_token" in str(params.get("fields", "")):
                shown["access_token"] = self._page_token(page.id, token)
            return Response(200, shown)
        if not edge and method == "DELETE" and post is not None and not post.deleted:
            refusal = _page_refusal(world, post.owner_id, token, write=True)
            if post.network == "instagram":
                owner = world.instagram_users[post.owner_id]
                refusal = _instagram_refusal(world, owner.page_id, token, write=True)
            if refusal is not None:
                return refusal
            post.deleted = True
            return Response(200, {"success": True})
        return errors.not_found(object_id, method)

    def _pages_of(
        self, user_id: str, token: Token, params: dict[str, Any], *, here: str
    ) -> Response:
        """GET /me/accounts: the person's Pages, each with a Page token, a page at a time."""
        world = self.world
        pages = [page for page in world.pages.values() if page.user_id == user_id]
        limit = int(params.get("limit", 25))
        start = int(params.get("after", 0) or 0)
        shown = []
        for page in pages[start : start + limit]:
            entry: dict[str, Any] = {"id": page.id, "name": page.name}
            entry["access_token"] = self._page_token(page.id, token)
            if page.instagram_id:
                entry["instagram_business_account"] = {"id": page.instagram_id}
            shown.append(entry)
        body: dict[str, Any] = {"data": shown}
        if start + limit < len(pages):
            query = {k: v for k, v in params.items() if k != "after"}
            body["paging"] = {
                "cursors": {"after": str(start + limit)},
                "next": f"{here}/me/accounts?{urlencode({**query, 'after': start + limit})}",
            }
        return Response(200, body)

    def _page_token(self, page_id: str, token: Token) -> str:
        """A Page token: from a long-lived user token it never expires; from a short one, it
        lapses with it."""
        lifetime = None
        if token.expires_at is not None and token.expires_at - self.world.now() < 2 * 86400:
            lifetime = token.expires_at - self.world.now()
        value, _ = self.world.issue_token(
            kind="page",
            user_id=token.user_id,
            scopes=token.scopes,
            lifetime=lifetime,
            page_id=page_id,
        )
        return value

    # --- Faults and control -------------------------------------------------------------

    def _with_fault(self, fault: Fault, answer: Callable[[], Response]) -> Response | None:
        return fault_applied(fault, answer, error_for=_injected_error)

    def _control(self, request: Request) -> Response:
        route = find_route(CONTROL_ROUTES, request)
        if route is None:
            return errors.not_found(request.path)
        try:
            return route.handler(self.world, request)
        except ControlError as problem:
            return Response(problem.status, {"error": str(problem)})
        except (KeyError, TypeError, ValueError) as problem:
            return Response(400, {"error": f"malformed control request: {problem!r}"})

    def unmetered(self, response: Response) -> Response:
        """What fakex's handler answers by itself (a request it cannot read, a bug in the
        fake), in the Graph API's envelope."""
        return (
            errors.server_error(500)
            if response.status >= 500
            else errors.invalid_parameter("Bad request")
        )

    def _finish(self, endpoint: str, response: Response | None) -> Response | None:
        outcome = "connection_closed" if response is None else str(response.status)
        with self.world.lock:
            self.world.stats.count_request(endpoint, outcome)
        return response


def _page_refusal(world: World, page_id: str, token: Token, *, write: bool) -> Response | None:
    """A Page's edges take that Page's token (or its person's); writing needs pages_manage_posts."""
    page = world.pages.get(page_id)
    if page is None or (token.page_id or page_id) != page_id or page.user_id != token.user_id:
        return errors.missing_permission(graph.PUBLISH_PAGE)
    if write and graph.PUBLISH_PAGE not in token.scopes:
        return errors.missing_permission(graph.PUBLISH_PAGE)
    return None


def _instagram_refusal(world: World, page_id: str, token: Token, *, write: bool) -> Response | None:
    page = world.pages.get(page_id)
    if page is None or page.user_id != token.user_id or token.page_id not in (None, page_id):
        return errors.needs_permission("instagram_basic")
    if write and graph.PUBLISH_INSTAGRAM not in token.scopes:
        return errors.needs_permission(graph.PUBLISH_INSTAGRAM)
    return None


def _usage_headers(
    world: World, who: str, network: str, app_share: int, object_share: int
) -> dict[str, str]:
    headers = {
        "x-app-usage": json.dumps(
            {"call_count": app_share, "total_cputime": app_share, "total_time": app_share}
        )
    }
    if who != "app":
        kind = "instagram" if network == "instagram" else "pages"
        headers["x-business-use-case-usage"] = json.dumps(
            {
                who: [
                    {
                        "type": kind,
                        "call_count": object_share,
                        "total_cputime": object_share,
                        "total_time": object_share,
                        "estimated_time_to_regain_access": (
                            world.minutes_to_regain(who) if object_share > 100 else 0
                        ),
                    }
                ]
            }
        )
    return headers


def _with_headers(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response


def _parameters(request: Request) -> dict[str, Any]:
    """Query, then the body's form or JSON fields, as the Graph API merges them."""
    params: dict[str, Any] = dict(request.query)
    content_type = request.header("content-type")
    if "json" in content_type:
        try:
            body = request.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
    elif content_type.startswith("multipart/form-data"):
        try:
            fields = parse_multipart(content_type, request.body)
        except ValueError:
            fields = {}
        # A file part (video_file_chunk) stays bytes; every other field is text.
        params.update(
            {
                name: value if name in FILE_FIELDS else value.decode("utf-8", errors="replace")
                for name, value in fields.items()
            }
        )
    elif request.body:
        params.update(parse_query(request.body.decode("utf-8", errors="replace")))
    return params


def _access_token(request: Request, params: dict[str, Any]) -> str | None:
    scheme, _, credentials = request.header("authorization").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and credentials.strip():
        return credentials.strip()
    value = params.get("access_token")
    return str(value) if value else None


def _media_fetched(method: str, params: dict[str, Any]) -> graph.Fetched | None:
    if method != "POST":
        return None
    for name in MEDIA_URL_PARAMETERS:
        if params.get(name):
            return graph.fetch_media(str(params[name]))
    return None


def _endpoint_name(method: str, path: str) -> str:
    """The request's kind for the statistics: ids stand as {id}."""
    segments = [
        "{id}" if segment.replace("_", "").isdigit() else segment
        for segment in path.split("/")
        if segment
    ]
    return f"{method} /{'/'.join(segments)}"


class FakeMetaRequestHandler(FakeXRequestHandler):
    """fakex's handler (keep-alive, the request read whole, a fake's bug answered 500),
    with the Graph API's headers."""

    server_version = "fakemeta"
    server: FakeMetaServer

    def _send(self, response: Response, started: float) -> None:
        payload = response.encoded_body()
        self.send_response(response.status)
        headers = {
            "content-type": response.content_type if payload else "text/html; charset=utf-8",
            "content-length": str(len(payload)),
            "x-fb-trace-id": uuid.uuid4().hex[:11],
            "x-fb-request-id": uuid.uuid4().hex,
            "facebook-api-version": "v27.0",
            **response.headers,
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class FakeMetaServer(FakeXServer):
    """fakex's threading server (its binding and `url`), answering as the Graph API."""

    def __init__(self, address: tuple[str, int], fake: FakeMeta, *, verbose: bool = False) -> None:
        self.fake = fake
        self.verbose = verbose
        ThreadingHTTPServer.__init__(self, address, FakeMetaRequestHandler)


def make_server(host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False) -> FakeMetaServer:
    """A bound server (port 0 picks a free one); call serve_forever() to start answering."""
    return FakeMetaServer((host, port), FakeMeta(World()), verbose=verbose)
