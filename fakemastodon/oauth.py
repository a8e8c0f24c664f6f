"""Apps and sign-ins as a Mastodon 4.3 instance runs them (Doorkeeper underneath).

An app is registered per instance (POST /api/v1/apps); a person then allows it with
the authorization-code flow, PKCE S256 only; the token never expires and comes with
no refresh token. Error bodies are Doorkeeper's `{"error", "error_description"}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from fakemastodon.api import error, request_params
from fakemastodon.state import App, AuthorizationCode, World, new_secret
from fakex.wire import Request, Response

CODE_LIFETIME = 10 * 60  # Doorkeeper's default
KNOWN_SCOPES = frozenset(
    {
        "read",
        "write",
        "follow",
        "push",
        "profile",
        "read:accounts",
        "read:statuses",
        "write:statuses",
        "write:media",
        "admin:read",
    }
)
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication "
    "included, or unsupported authentication method."
)


def app_create(world: World, request: Request) -> Response:
    try:
        params = request_params(request)
    except ValueError:
        return error(400, "The request body could not be read")  # [inf]
    name = str(params.get("client_name") or "").strip()
    redirect_uris = params.get("redirect_uris") or []
    if isinstance(redirect_uris, str):
        redirect_uris = redirect_uris.split()
    scopes = tuple(str(params.get("scopes") or "read").split())
    if not name:
        return error(422, "Validation failed: Application name can't be blank")
    if not redirect_uris:
        return error(422, "Validation failed: Redirect URI can't be blank")
    if not set(scopes) <= KNOWN_SCOPES:
        return error(422, "Validation failed: Scopes must only contain known scopes")  # [inf]
    with world.lock:
        app = App(
            id=world.next_id(),
            name=name,
            client_id=secrets.token_urlsafe(32),
            client_secret=new_secret(),
            redirect_uris=tuple(redirect_uris),
            scopes=scopes,
            website=str(params.get("website") or ""),
        )
        world.apps[app.client_id] = app
        world.stats.apps_registered += 1
    return Response(
        200,
        {
            "id": app.id,
            "name": app.name,
            "website": app.website or None,
            "scopes": list(app.scopes),
            "redirect_uri": "\n".join(app.redirect_uris),
            "redirect_uris": list(app.redirect_uris),
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "client_secret_expires_at": 0,
        },
    )


def authorize(world: World, request: Request) -> Response:
    """The consent page, already agreed to by the logged-in fake account.

    An unknown app or redirect URI is answered here; any other problem goes back to
    the app as `error=…` on its redirect URI (RFC 6749 §4.1.2.1).
    """
    query = request.query
    redirect_uri = query.get("redirect_uri", "")
    with world.lock:
        app = world.apps.get(query.get("client_id", ""))
        if app is None or redirect_uri not in app.redirect_uris:
            return Response(400, {"error": "invalid_client", "error_description": INVALID_CLIENT})
        scopes = tuple(query.get("scope", "read").split())
        problem = None
        if query.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif not set(scopes) <= set(app.scopes):
            problem = "invalid_scope"
        elif query.get("code_challenge_method", "S256") != "S256":
            problem = "invalid_request"
        account_id = world.logged_in_account_id or next(iter(world.accounts), None)
        if problem is None and account_id is None:
            problem = "access_denied"
        if problem is not None:
            return _redirect(redirect_uri, {"error": problem, "state": query.get("state", "")})
        code = secrets.token_urlsafe(32)
        world.codes[code] = AuthorizationCode(
            account_id=account_id,
            client_id=app.client_id,
            scopes=scopes,
            redirect_uri=redirect_uri,
            code_challenge=query.get("code_challenge", ""),
            expires_at=world.now() + CODE_LIFETIME,
        )
    parameters = {"code": code}
    if "state" in query:
        parameters["state"] = query["state"]
    return _redirect(redirect_uri, parameters)


def token(world: World, request: Request) -> Response:
    params = _params_or_none(request)
    with world.lock:
        app = world.apps.get(str(params.get("client_id", "")))
        if app is None or not hmac.compare_digest(
            str(params.get("client_secret", "")), app.client_secret
        ):
            world.stats.token_exchanges["refused"] += 1
            return Response(401, {"error": "invalid_client", "error_description": INVALID_CLIENT})
        if params.get("grant_type") != "authorization_code":
            return Response(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The authorization grant type is not supported by the "
                    "authorization server.",
                },
            )
        # Spent by its first use, good or bad.
        code = world.codes.pop(str(params.get("code", "")), None)
        if (
            code is None
            or code.expires_at <= world.now()
            or code.client_id != app.client_id
            or code.redirect_uri != params.get("redirect_uri")
            or not _verifier_matches(code, str(params.get("code_verifier", "")))
        ):
            world.stats.token_exchanges["refused"] += 1
            return Response(400, {"error": "invalid_grant", "error_description": INVALID_GRANT})
        world.stats.token_exchanges["issued"] += 1
        body = world.issue_token(
            account_id=code.account_id, client_id=app.client_id, scopes=code.scopes
        )
    return Response(200, body)


def revoke(world: World, request: Request) -> Response:
    params = _params_or_none(request)
    with world.lock:
        app = world.apps.get(str(params.get("client_id", "")))
        if app is None or params.get("client_secret") != app.client_secret:
            return Response(
                403, {"error": "unauthorized_client", "error_description": INVALID_CLIENT}
            )
        revoked = world.tokens.get(str(params.get("token", "")))
        if revoked is not None and revoked.client_id == app.client_id:
            del world.tokens[str(params["token"])]
    return Response(200, {})


def _params_or_none(request: Request) -> dict:
    """The form or JSON body; an unreadable one is no parameters (Doorkeeper's way)."""
    try:
        return request_params(request)
    except ValueError:
        return {}


def _verifier_matches(code: AuthorizationCode, verifier: str) -> bool:
    """Without a challenge the flow is plain OAuth (Mastodon before 4.3 has no PKCE)."""
    if not code.code_challenge:
        return True
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return bool(verifier) and hmac.compare_digest(digest.decode().rstrip("="), code.code_challenge)


def _redirect(redirect_uri: str, parameters: dict[str, str]) -> Response:
    joiner = "&" if "?" in redirect_uri else "?"
    return Response(302, None, headers={"location": redirect_uri + joiner + urlencode(parameters)})
