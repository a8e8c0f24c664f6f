"""OAuth 2.0 Authorization Code with PKCE, as X runs it (platforms.md §3.1).

Error wording quoted in platforms.md is [obs]; the rest is marked [inf].
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from fakex import problems
from fakex.state import AuthorizationCode, OAuthClient, World, new_grant
from fakex.wire import Request, Response

AUTHORIZATION_CODE_LIFETIME = 30
MAX_STATE_LENGTH = 500
CODE_CHALLENGE_METHODS = frozenset({"S256", "plain"})
KNOWN_SCOPES = frozenset(
    {
        "tweet.read",
        "tweet.write",
        "tweet.moderate.write",
        "users.read",
        "users.email",
        "follows.read",
        "follows.write",
        "offline.access",
        "space.read",
        "mute.read",
        "mute.write",
        "like.read",
        "like.write",
        "list.read",
        "list.write",
        "block.read",
        "block.write",
        "bookmark.read",
        "bookmark.write",
        "dm.read",
        "dm.write",
        "media.write",
    }
)

INVALID_TOKEN = "Value passed for the token was invalid."  # [obs]
MISSING_AUTHORIZATION_HEADER = "Missing valid authorization header"  # [obs]
INVALID_CODE = "Value passed for the authorization code was invalid."  # [inf]
REDIRECT_URI_MISMATCH = (
    "Value passed for the redirect uri did not match the uri of the authorization code."  # [inf]
)
VERIFIER_MISMATCH = "Value passed for the code verifier did not match the code challenge."  # [inf]


def authorize(world: World, request: Request) -> Response:
    """The consent screen, already agreed to by whichever fake user is logged in.

    A bad client or redirect URI is answered here, never redirected (RFC 6749 §4.1.2.1);
    any other problem goes back to the client as `error=…` on its redirect URI [inf].
    """
    query = request.query
    redirect_uri = query.get("redirect_uri", "")
    with world.lock:
        client = world.clients.get(query.get("client_id", ""))
        if client is None:
            return problems.oauth_error(
                400, "invalid_request", "Value passed for client_id was invalid."
            )
        if redirect_uri not in client.redirect_uris:
            return problems.oauth_error(
                400,
                "invalid_request",
                "Value passed for redirect_uri was not registered for this client.",
            )
        refusal = _authorize_refusal(query)
        user_id = world.logged_in_user_id or world.first_user_id()
        if refusal is None and user_id is None:
            refusal = ("access_denied", "No fake user is logged in.")
        if refusal is not None:
            error, description = refusal
            return _redirect(
                redirect_uri,
                {"error": error, "error_description": description, "state": query.get("state", "")},
            )
        code = secrets.token_urlsafe(32)
        world.authorization_codes[code] = AuthorizationCode(
            grant=new_grant(user_id=user_id, client_id=client.client_id, scopes=_scopes(query)),
            redirect_uri=redirect_uri,
            code_challenge=query["code_challenge"],
            code_challenge_method=query["code_challenge_method"],
            expires_at=world.now() + AUTHORIZATION_CODE_LIFETIME,
        )
    return _redirect(redirect_uri, {"state": query["state"], "code": code})


def token(world: World, request: Request) -> Response:
    form = request.form()
    grant_type = form.get("grant_type", "")
    with world.lock:
        client = _authenticated_client(world, request, form)
        if isinstance(client, Response):
            response = client
        elif grant_type == "authorization_code":
            response = _exchange_code(world, client, form)
        elif grant_type == "refresh_token":
            response = _refresh(world, client, form)
        else:
            response = problems.oauth_error(
                400,
                "unsupported_grant_type",
                f"Value passed for grant_type [{grant_type}] is not supported.",
            )  # [inf]
        outcome = (
            world.stats.token_exchanges if response.status == 200 else world.stats.token_refusals
        )
        outcome[grant_type or "missing"] += 1
    return response


def revoke(world: World, request: Request) -> Response:
    """Revoking a refresh token ends its whole grant; an access token only itself [inf]."""
    form = request.form()
    with world.lock:
        client = _authenticated_client(world, request, form)
        if isinstance(client, Response):
            return client
        value = form.get("token", "")
        access = world.access_tokens.get(value)
        if access is not None and access.grant.client_id == client.client_id:
            del world.access_tokens[value]
        grant = world.refresh_tokens.get(value)
        if grant is not None and grant.client_id == client.client_id:
            world.revoke_grant(grant.id)
    return Response(200, {"revoked": True})


def _authorize_refusal(query: dict[str, str]) -> tuple[str, str] | None:
    if query.get("response_type") != "code":
        return ("unsupported_response_type", "Value passed for response_type must be code.")
    scopes = _scopes(query)
    if not scopes or not set(scopes) <= KNOWN_SCOPES:
        return ("invalid_scope", f"Value passed for scope was invalid: [{query.get('scope', '')}].")
    if not 0 < len(query.get("state", "")) <= MAX_STATE_LENGTH:
        return (
            "invalid_request",
            f"Value passed for state must be 1 to {MAX_STATE_LENGTH} characters.",
        )
    if (
        not query.get("code_challenge")
        or query.get("code_challenge_method") not in CODE_CHALLENGE_METHODS
    ):
        return (
            "invalid_request",
            "Value passed for code_challenge or code_challenge_method was invalid.",
        )
    return None


def _authenticated_client(
    world: World, request: Request, form: dict[str, str]
) -> OAuthClient | Response:
    """Confidential clients use HTTP Basic; public clients name themselves in the body [doc]."""
    refused = problems.oauth_error(401, "unauthorized_client", MISSING_AUTHORIZATION_HEADER)
    authorization = request.header("authorization")
    if authorization[:6].lower() == "basic ":
        client_id, secret = _basic_credentials(authorization[6:])
        client = world.clients.get(client_id)
        # [inf] requests-oauthlib sends Basic with an empty secret for public clients.
        expected_secret = client.client_secret or "" if client else None
        if expected_secret is None or not hmac.compare_digest(secret, expected_secret):
            return refused
        return client
    client = world.clients.get(form.get("client_id", ""))
    if client is None:
        return problems.oauth_error(
            400, "invalid_request", "Missing required parameter [client_id]."
        )  # [inf]
    return refused if client.confidential else client


def _exchange_code(world: World, client: OAuthClient, form: dict[str, str]) -> Response:
    # Popped before any other check: a code is spent by its first use, good or bad.
    code = world.authorization_codes.pop(form.get("code", ""), None)
    if code is None or code.expires_at <= world.now() or code.grant.client_id != client.client_id:
        return problems.oauth_error(400, "invalid_request", INVALID_CODE)
    if form.get("redirect_uri") != code.redirect_uri:
        return problems.oauth_error(400, "invalid_request", REDIRECT_URI_MISMATCH)
    if not _verifier_matches(code, form.get("code_verifier", "")):
        return problems.oauth_error(400, "invalid_request", VERIFIER_MISMATCH)
    with_refresh_token = "offline.access" in code.grant.scopes
    return Response(200, world.issue_tokens(code.grant, with_refresh_token=with_refresh_token))


def _refresh(world: World, client: OAuthClient, form: dict[str, str]) -> Response:
    """Rotation [obs]: each refresh token works once and is replaced by a new one."""
    refresh_token = form.get("refresh_token", "")
    grant = world.refresh_tokens.get(refresh_token)
    if grant is None or grant.client_id != client.client_id or grant.user_id not in world.users:
        return problems.oauth_error(400, "invalid_request", INVALID_TOKEN)
    del world.refresh_tokens[refresh_token]
    return Response(200, world.issue_tokens(grant, with_refresh_token=True))


def _verifier_matches(code: AuthorizationCode, verifier: str) -> bool:
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        computed = verifier
    return bool(verifier) and hmac.compare_digest(computed, code.code_challenge)


def _basic_credentials(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _scopes(query: dict[str, str]) -> tuple[str, ...]:
    return tuple(scope for scope in query.get("scope", "").split(" ") if scope)


def _redirect(redirect_uri: str, parameters: dict[str, str]) -> Response:
    separator = "&" if "?" in redirect_uri else "?"
    return Response(
        302, None, headers={"location": f"{redirect_uri}{separator}{urlencode(parameters)}"}
    )
