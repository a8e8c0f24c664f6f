"""The HTTP face of the fake LinkedIn: the request pipeline, sign-in, and the socket server.

Pipeline of an API request: fault decision, bearer token (401: 65600 invalid, 65601
revoked, 65602 expired), for /rest/ the `LinkedIn-Version` (400 missing, 426 not active)
and `X-Restli-Protocol-Version`, then the endpoint. Fault rules and the
request/response shapes are fakex's. The sign-in's pages (/oauth/v2/…) are
www.linkedin.com's on the real network; here one server answers both hosts.
"""

from __future__ import annotations

import secrets
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlencode

from fakelinkedin import api, errors
from fakelinkedin.control_api import CONTROL_ROUTES, ControlError
from fakelinkedin.state import (
    ACCESS_TOKEN_SECONDS,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN_SECONDS,
    AuthorizationCode,
    World,
)
from fakex.faults import fault_applied
from fakex.routing import find_route
from fakex.server import FakeXRequestHandler, FakeXServer
from fakex.wire import Request, Response

_CONTROL_PREFIX = "/_fake/"
CODE_LIFETIME = 1800
RESTLI_PROTOCOL = "2.0.0"


class FakeLinkedIn:
    """Turns a Request into a Response, or into None: close the connection, answer nothing."""

    def __init__(self, world: World) -> None:
        self.world = world

    def handle(self, request: Request) -> Response | None:
        if request.path.startswith(_CONTROL_PREFIX):
            return self._control(request)
        with self.world.lock:
            token = self.world.tokens.get(_bearer(request))
            fault = self.world.faults.fault_for(
                method=request.method,
                path=request.path,
                user_id=token.member_id if token else None,
            )
            if fault is not None:
                self.world.stats.faults[fault.kind] += 1
        endpoint = _endpoint_name(request.method, request.path)

        def answer() -> Response:
            return self._answer(request)

        if fault is None:
            return self._finish(endpoint, answer())
        return self._finish(endpoint, fault_applied(fault, answer, error_for=_injected))

    def _answer(self, request: Request) -> Response:
        path = request.path
        if path == "/oauth/v2/authorization" and request.method == "GET":
            return self._authorization(request.query)
        if path == "/oauth/v2/accessToken" and request.method == "POST":
            return self._access_token(request.form())
        if path.startswith("/rest/"):
            problem = _version_problem(self.world, request)
            if problem is not None:
                return problem
        with self.world.lock:
            caller = self._caller(request)
            if isinstance(caller, Response):
                return caller
            return self._route(request, caller)

    def _caller(self, request: Request) -> api.Caller | Response:
        value = _bearer(request)
        token = self.world.tokens.get(value)
        if token is None or token.member_id not in self.world.members:
            return errors.invalid_token()
        if token.revoked:
            return errors.revoked_token()
        if token.expires_at <= self.world.now():
            return errors.expired_token()
        return api.Caller(member_id=token.member_id, token=token)

    def _route(self, request: Request, caller: api.Caller) -> Response:
        world, method, path, query = self.world, request.method, request.path, request.query
        here = f"http://{request.header('host')}"
        if path == "/v2/userinfo" and method == "GET":
            return self._userinfo(caller)
        if path == "/v2/organizationalEntityAcls" and method == "GET":
            return self._roles(caller, query)
        if path.startswith("/dms-uploads/video/") and method == "PUT":
            secret, _, index = path.removeprefix("/dms-uploads/video/").partition("/")
            return api.video_part_upload(world, caller, secret, index, request.body)
        if path.startswith("/dms-uploads/") and method in ("PUT", "POST"):
            return api.image_upload(world, caller, path.rsplit("/", 1)[-1], request.body)
        if path == "/rest/posts" and method == "POST":
            return api.post_create(world, caller, _json(request))
        if path == "/rest/posts" and method == "GET" and query.get("q") == "author":
            return api.posts_by_author(world, caller, query)
        if (
            path == "/rest/images"
            and method == "POST"
            and query.get("action") == "initializeUpload"
        ):
            return api.image_initialize(world, caller, _json(request), here=here)
        if path == "/rest/videos" and method == "POST":
            action = query.get("action")
            if action == "initializeUpload":
                return api.video_initialize(world, caller, _json(request), here=here)
            if action == "finalizeUpload":
                return api.video_finalize(world, caller, _json(request))
        if path == "/rest/memberCreatorPostAnalytics" and method == "GET":
            return api.member_post_analytics(world, caller, query)
        if path == "/rest/organizationalEntityShareStatistics" and method == "GET":
            return api.share_statistics(world, caller, query)
        collection, _, urn = path.removeprefix("/rest/").partition("/")
        urn = unquote(urn)
        if collection == "posts" and urn and method == "GET":
            return api.post_read(world, caller, urn)
        if collection == "posts" and urn and method == "DELETE":
            return api.post_delete(world, caller, urn)
        if collection == "images" and urn and method == "GET":
            return api.image_read(world, caller, urn)
        if collection == "videos" and urn and method == "GET":
            return api.video_read(world, caller, urn)
        if collection == "socialActions" and urn and method == "GET":
            return api.social_actions(world, caller, urn)
        return errors.not_found(f"{method} {path}")

    # --- Sign-in -----------------------------------------------------------------------

    def _authorization(self, query: dict[str, str]) -> Response:
        """GET /oauth/v2/authorization: the member (set with the control's log_in) allows
        the app, and is sent back with a code and the state; or refuses."""
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect_uri:
            return errors.oauth_error(400, "invalid_request", "Invalid client_id or redirect_uri")
        if query.get("response_type") != "code":
            return errors.oauth_error(
                400, "unsupported_response_type", "response_type must be code"
            )
        asked = tuple(query.get("scope", "").split())
        back = {"state": query.get("state", "")}
        with self.world.lock:
            member_id = self.world.logged_in_member_id
            if member_id is None:
                back.update(
                    error="user_cancelled_authorize",
                    error_description="The user cancelled the authorization",
                )
            else:
                granted = self.world.granted_scopes
                scopes = asked if granted is None else tuple(s for s in asked if s in granted)
                code = secrets.token_urlsafe(32)
                self.world.codes[code] = AuthorizationCode(
                    member_id, redirect_uri, scopes, self.world.now() + CODE_LIFETIME
                )
                back["code"] = code
        separator = "&" if "?" in redirect_uri else "?"
        return Response(
            302, None, headers={"location": f"{redirect_uri}{separator}{urlencode(back)}"}
        )

    def _access_token(self, form: dict[str, str]) -> Response:
        """POST /oauth/v2/accessToken: a code (or, for partner apps, a refresh token) for a
        60-day access token."""
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return errors.oauth_error(401, "invalid_client", "Client authentication failed")
        world = self.world
        with world.lock:
            now = world.now()
            grant = form.get("grant_type")
            if grant == "authorization_code":
                code = world.codes.pop(form.get("code", ""), None)
                if code is None or code.expires_at <= now:
                    return errors.oauth_error(
                        400,
                        "invalid_request",
                        "Unable to retrieve access token: authorization code not found",
                    )
                if code.redirect_uri != form.get("redirect_uri"):
                    return errors.oauth_error(
                        400,
                        "invalid_redirect_uri",
                        "Unable to retrieve access token: appid/redirect uri/code verifier does "
                        "not match authorization code",
                    )
                member_id, scopes, refresh_lapses = code.member_id, code.scopes, None
            elif grant == "refresh_token" and world.settings.refresh_tokens:
                refresh = world.refresh_tokens.get(form.get("refresh_token", ""))
                if refresh is None or refresh.expires_at <= now:
                    return errors.oauth_error(
                        400, "invalid_request", "The provided refresh token is invalid or expired"
                    )
                member_id, scopes, refresh_lapses = (
                    refresh.member_id,
                    refresh.scopes,
                    refresh.expires_at,
                )
            else:
                return errors.oauth_error(
                    400, "unsupported_grant_type", f"The grant type {grant!r} is not allowed"
                )
            value, _ = world.issue_token(member_id=member_id, scopes=scopes)
            world.stats.token_exchanges[grant] += 1
            body: dict[str, Any] = {
                "access_token": value,
                "expires_in": ACCESS_TOKEN_SECONDS,
                "scope": ",".join(scopes),
            }
            if world.settings.refresh_tokens:
                # Refreshing does not extend the refresh token: it lapses a year after the
                # first sign-in.
                refresh_value, refresh = world.issue_refresh_token(
                    member_id=member_id, scopes=scopes, expires_at=refresh_lapses
                )
                body["refresh_token"] = refresh_value
                body["refresh_token_expires_in"] = (
                    int(refresh.expires_at - now) or REFRESH_TOKEN_SECONDS
                )
            return Response(200, body)

    def _userinfo(self, caller: api.Caller) -> Response:
        if not (caller.has("openid") and caller.has("profile")):
            return errors.access_denied("/userinfo (openid profile)")
        member = self.world.members[caller.member_id]
        given, _, family = member.name.partition(" ")
        return Response(
            200,
            {
                "sub": member.id,
                "name": member.name,
                "given_name": given,
                "family_name": family,
                "picture": member.picture,
                "locale": {"country": "US", "language": "en"},
            },
        )

    def _roles(self, caller: api.Caller, query: dict[str, str]) -> Response:
        """GET /v2/organizationalEntityAcls?q=roleAssignee&state=APPROVED: the member's roles,
        with each organization's names (the `organizationalTarget~` projection)."""
        allowed = {api.ORGANIZATION_ADMIN, "r_organization_admin", api.ORGANIZATION_POST}
        if not allowed & set(caller.token.scopes):
            return errors.access_denied("organizationalEntityAcls.FINDER-roleAssignee")
        if query.get("q") != "roleAssignee":
            return errors.illegal_argument("q must be roleAssignee")
        wanted = query.get("state", "")
        elements = []
        for role in self.world.roles:
            if role.member_id != caller.member_id or (wanted and role.state != wanted):
                continue
            organization = self.world.organizations[role.organization_id]
            elements.append(
                {
                    "role": role.role,
                    "state": role.state,
                    "roleAssignee": caller.urn,
                    "organizationalTarget": organization.urn,
                    "organizationalTarget~": {
                        "localizedName": organization.name,
                        "vanityName": organization.vanity_name,
                    },
                }
            )
        return Response(200, {"elements": elements, "paging": {"start": 0, "count": 100}})

    # --- Faults and control -------------------------------------------------------------

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
        fake), in LinkedIn's error body."""
        if response.status >= 500:
            return errors.server_error(500)
        return errors.illegal_argument("Bad request")

    def _finish(self, endpoint: str, response: Response | None) -> Response | None:
        outcome = "connection_closed" if response is None else str(response.status)
        with self.world.lock:
            self.world.stats.count_request(endpoint, outcome)
        return response


def _injected(status: int) -> Response:
    """An injected status in LinkedIn's body: its throttle, or a transient 5xx."""
    return errors.throttled() if status == 429 else errors.server_error(status)


def _version_problem(world: World, request: Request) -> Response | None:
    version = request.header("linkedin-version")
    if not version:
        return errors.version_missing()
    with world.lock:
        active = world.version_active(version)
    if not active:
        return errors.nonexistent_version(version)
    if request.header("x-restli-protocol-version") != RESTLI_PROTOCOL:
        return errors.illegal_argument(
            f"X-Restli-Protocol-Version must be {RESTLI_PROTOCOL} for the versioned API"
        )
    return None


def _bearer(request: Request) -> str:
    scheme, _, credentials = request.header("authorization").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _json(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None


def _endpoint_name(method: str, path: str) -> str:
    """The request's kind for the statistics: URNs and upload tokens stand as {id}."""
    if path.startswith("/dms-uploads/video/"):
        return f"{method} /dms-uploads/video/{{id}}"
    if path.startswith("/dms-uploads/"):
        return f"{method} /dms-uploads/{{id}}"
    collection, _, rest = path.removeprefix("/rest/").partition("/")
    if path.startswith("/rest/") and rest:
        return f"{method} /rest/{collection}/{{id}}"
    return f"{method} {path}"


class FakeLinkedInRequestHandler(FakeXRequestHandler):
    """fakex's handler (keep-alive, the request read whole, a fake's bug answered 500),
    with LinkedIn's headers."""

    server_version = "fakelinkedin"
    server: FakeLinkedInServer

    def _send(self, response: Response, started: float) -> None:
        payload = response.encoded_body()
        self.send_response(response.status)
        headers = {
            "content-type": response.content_type if payload else "text/plain",
            "content-length": str(len(payload)),
            "x-li-uuid": secrets.token_urlsafe(16),
            "x-restli-protocol-version": RESTLI_PROTOCOL,
            **response.headers,
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class FakeLinkedInServer(FakeXServer):
    """fakex's threading server (its binding and `url`), answering as LinkedIn."""

    def __init__(
        self, address: tuple[str, int], fake: FakeLinkedIn, *, verbose: bool = False
    ) -> None:
        self.fake = fake
        self.verbose = verbose
        ThreadingHTTPServer.__init__(self, address, FakeLinkedInRequestHandler)


def make_server(
    host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> FakeLinkedInServer:
    """A bound server (port 0 picks a free one); call serve_forever() to start answering."""
    return FakeLinkedInServer((host, port), FakeLinkedIn(World()), verbose=verbose)
