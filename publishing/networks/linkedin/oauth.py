"""Signing in to LinkedIn (OAuth 2.0, three-legged) and keeping the sign-in usable.

The person is sent to LinkedIn's authorization page with a `state` Kairos verifies on
the way back (publishing/connect.py); the code is traded for an access token of 60
days. Only partner apps (LinkedIn's Marketing Developer Platform) also get a refresh
token (365 days from the first sign-in; refreshing does not extend it): with one,
Kairos renews the access before it lapses; without, staff are told when to reconnect
and the account's jobs wait once it has lapsed (reference/networks.md, LinkedIn → Auth).

One sign-in may post as the member and as each organization the member administers
(`GET /v2/organizationalEntityAcls`): each is offered as an account of its own, with
the same token and its own author URN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings

from publishing.networks.base import (
    Account,
    ConnectError,
    Connection,
    ConnectOff,
    Credentials,
    CredentialsRefused,
    ErrorKind,
    Profile,
    PublishError,
)

# Roles that may post as the organization (the Community Management API's).
POSTING_ROLES = frozenset(
    {"ADMINISTRATOR", "CONTENT_ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER"}
)
MEMBER_PREFIX = "urn:li:person:"
ORGANIZATION_PREFIX = "urn:li:organization:"
ROLES_PROJECTION = "(elements*(role,state,organizationalTarget~(localizedName,vanityName)))"


def authorization_url(*, state: str) -> str:
    """LinkedIn's page where the member signs in and allows Kairos."""
    if not settings.LINKEDIN_CLIENT_ID:
        raise ConnectOff(
            "Connecting LinkedIn is off: set LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET (the "
            "app registered on developers.linkedin.com).",
            setting="LINKEDIN_CLIENT_ID",
        )
    query = {
        "response_type": "code",
        "client_id": settings.LINKEDIN_CLIENT_ID,
        "redirect_uri": settings.LINKEDIN_REDIRECT_URI,
        "state": state,
        "scope": settings.LINKEDIN_SCOPES,
    }
    return f"{settings.LINKEDIN_OAUTH_URL}/oauth/v2/authorization?{urlencode(query)}"


@dataclass(frozen=True)
class SignIn:
    """What the code exchange gave: the token's values to keep, and when access lapses."""

    values: dict[str, str]
    expires_at: datetime | None


def code_exchange(*, code: str) -> SignIn:
    answer = _token_call(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.LINKEDIN_REDIRECT_URI,
        }
    )
    if answer is None or "access_token" not in answer:
        raise ConnectError(
            "LinkedIn refused to finish the sign-in (the code expired, or the callback address "
            "differs from LINKEDIN_REDIRECT_URI). Connect the account again."
        )
    return _sign_in(answer)


def token_refresh(refresh_token: str) -> SignIn:
    """A new access token from the refresh token; CredentialsRefused when LinkedIn will not."""
    try:
        answer = _token_call({"grant_type": "refresh_token", "refresh_token": refresh_token})
    except ConnectError as unreachable:
        raise PublishError(kind=ErrorKind.NETWORK, message=str(unreachable)) from None
    if answer is None or "access_token" not in answer:
        raise CredentialsRefused("LinkedIn refused the refresh token")
    return _sign_in(answer)


def renewal_after_refusal(refused: str) -> Callable[[Account], Credentials | None]:
    """What to do, under the account's row lock, after LinkedIn refused the token `refused`."""

    def renew(current: Account) -> Credentials | None:
        if current.credentials.get("access_token", refused) != refused:
            return None  # reconnected or renewed meanwhile: try that one
        return _refreshed(current)

    return renew


def renewal_if_expiring(margin: timedelta) -> Callable[[Account], Credentials | None]:
    """Renew, under the row lock, an access lapsing within `margin`, where a refresh token
    allows; an account without one is left as it is until it lapses."""

    def renew(current: Account) -> Credentials | None:
        if not current.access_expires_within(margin) or not current.credentials.get(
            "refresh_token"
        ):
            return None
        return _refreshed(current)

    return renew


def _refreshed(current: Account) -> Credentials:
    refresh_token = current.credentials.get("refresh_token")
    if not refresh_token:
        raise CredentialsRefused("no refresh token: only reconnecting renews a LinkedIn sign-in")
    renewed = token_refresh(refresh_token)
    return Credentials(
        values={**current.credentials, **renewed.values}, expires_at=renewed.expires_at
    )


def connections_of(sign_in: SignIn) -> tuple[Connection, ...]:
    """The member and each organization they may post for, each an account to choose."""
    token = sign_in.values["access_token"]
    me = _ask("/v2/userinfo", token=token, doing="say who signed in")
    member_urn = f"{MEMBER_PREFIX}{me['sub']}"
    member = Connection(
        credentials=Credentials(
            values={**sign_in.values, "author": member_urn}, expires_at=sign_in.expires_at
        ),
        profile=Profile(
            external_id=member_urn,
            handle=me.get("name", ""),
            display_name=me.get("name", ""),
            avatar_url=me.get("picture", "") or "",
        ),
    )
    organizations = tuple(
        Connection(
            credentials=Credentials(
                values={**sign_in.values, "author": profile.external_id},
                expires_at=sign_in.expires_at,
            ),
            profile=profile,
        )
        for profile in organizations_administered(token)
    )
    return (member, *organizations)


def organizations_administered(token: str) -> list[Profile]:
    """The organizations the member may post for; none when the app or the sign-in lacks
    the Community Management API's scopes (LinkedIn then refuses the list)."""
    try:
        roles = _ask(
            "/v2/organizationalEntityAcls",
            token=token,
            doing="list your organizations",
            params={"q": "roleAssignee", "state": "APPROVED", "projection": ROLES_PROJECTION},
        )
    except ConnectError:
        return []
    profiles = []
    for element in roles.get("elements", []):
        target = str(element.get("organizationalTarget", ""))
        if element.get("role") not in POSTING_ROLES or not target.startswith(ORGANIZATION_PREFIX):
            continue
        names = element.get("organizationalTarget~") or {}
        name = names.get("localizedName") or target
        profiles.append(
            Profile(external_id=target, handle=names.get("vanityName") or name, display_name=name)
        )
    return profiles


def _sign_in(answer: dict[str, Any]) -> SignIn:
    values = {"access_token": str(answer["access_token"])}
    if answer.get("refresh_token"):
        values["refresh_token"] = str(answer["refresh_token"])
    expires_in = answer.get("expires_in")
    expires_at = datetime.now(UTC) + timedelta(seconds=int(expires_in)) if expires_in else None
    return SignIn(values=values, expires_at=expires_at)


def _token_call(form: dict[str, str]) -> dict[str, Any] | None:
    """POST /oauth/v2/accessToken; the JSON answer, or None when LinkedIn refused."""
    try:
        response = requests.post(
            f"{settings.LINKEDIN_OAUTH_URL}/oauth/v2/accessToken",
            data={
                **form,
                "client_id": settings.LINKEDIN_CLIENT_ID,
                "client_secret": settings.LINKEDIN_CLIENT_SECRET,
            },
            timeout=(settings.LINKEDIN_CONNECT_TIMEOUT, settings.LINKEDIN_READ_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise ConnectError(
            f"LinkedIn did not answer the sign-in ({type(exc).__name__}); try again in a moment."
        ) from None
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _ask(
    path: str, *, token: str, doing: str, params: dict[str, str] | None = None
) -> dict[str, Any]:
    """One call of the sign-in (requests, as for the other networks' sign-ins: one person's
    click, not a hot path)."""
    try:
        response = requests.get(
            f"{settings.LINKEDIN_API_BASE_URL}{path}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=(settings.LINKEDIN_CONNECT_TIMEOUT, settings.LINKEDIN_READ_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise ConnectError(
            f"LinkedIn did not answer when asked to {doing} ({type(exc).__name__}); connect "
            "again in a moment."
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        said = body.get("message", "") if isinstance(body, dict) else ""
        raise ConnectError(
            f"LinkedIn refused to {doing} (it answered {response.status_code}"
            f"{': ' + said if said else ''}). Connect the account again."
        )
    return body
