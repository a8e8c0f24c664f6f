"""Signing a Bluesky account in with an app password, and keeping the session alive.

What Bluesky does (networks.md, Bluesky):

* `com.atproto.server.createSession` trades a handle (or DID, or email) and an app
  password for an access JWT (2 hours) and a refresh JWT (90 days). Kairos keeps the
  two JWTs, the DID and the PDS; the app password is used once and never stored.
* `com.atproto.server.refreshSession`, called with the refresh JWT, gives a new pair.
  The refresh JWT rotates, but the one used keeps working for two hours (the PDS's
  grace period, atproto pull request 657), so a renewal whose answer was lost is
  simply asked for again. A refresh JWT that is expired or revoked (the app password
  was deleted) is answered `ExpiredToken` or `InvalidToken`: only signing in again
  helps.

So one refresh at a time per account, its new pair saved at once, as X's tokens are
(publishing/networks/x/oauth.py explains the row lock; AccountStore.credentials_renew
holds it).
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    Account,
    AccountStore,
    ConnectError,
    Connection,
    Credentials,
    CredentialsRefused,
    ErrorKind,
    Profile,
    PublishError,
)

logger = logging.getLogger(__name__)

# The access JWT lives 2 hours; renewing 20 minutes before leaves room for a slow queue.
REFRESH_BEFORE = timedelta(minutes=20)
ACCESS_LIFETIME = timedelta(hours=2)
# How the PDS names a session it will not take (networks.md, Errors).
TOKEN_REFUSED = frozenset({"ExpiredToken", "InvalidToken"})


# --- Connecting an account ------------------------------------------------------------


def bluesky_session_create(*, pds: str, identifier: str, app_password: str) -> Connection:
    """Sign in once with the app password: the session's JWTs, and who signed in."""
    pds = pds.strip().rstrip("/") or settings.BLUESKY_PDS_URL
    if not pds.startswith(("https://", "http://")):
        raise ConnectError(
            f"“{pds}” is not the address of a Bluesky server; leave the default "
            f"({settings.BLUESKY_PDS_URL}) unless the account is hosted elsewhere."
        )
    try:
        response = requests.post(
            f"{pds}/xrpc/com.atproto.server.createSession",
            json={"identifier": identifier.strip().removeprefix("@"), "password": app_password},
            timeout=_timeout(),
        )
    except requests.RequestException as exc:
        raise ConnectError(
            f"{pds} did not answer ({type(exc).__name__}); check the address and try again."
        ) from None
    if response.status_code != 200:
        raise ConnectError(_sign_in_refusal(response))
    answer = response.json()
    return Connection(
        credentials=credentials_from(answer, pds=pds),
        profile=Profile(external_id=answer["did"], handle=answer["handle"]),
    )


def _sign_in_refusal(response: requests.Response) -> str:
    try:
        error = response.json().get("error", "")
    except ValueError:
        error = ""
    if error == "AuthFactorTokenRequired":
        return (
            "Bluesky asked for a sign-in code: that was the account's own password. Make an "
            "app password (Bluesky → Settings → Privacy and security → App passwords) and "
            "use it here."
        )
    if error == "AccountTakedown":
        return "Bluesky has taken this account down; it cannot be connected."
    if response.status_code == 429:
        return "Bluesky refused: too many sign-ins for this account. Wait a few minutes."
    if response.status_code == 401:
        return (
            "Bluesky refused the handle or app password. Check both; an app password looks "
            "like xxxx-xxxx-xxxx-xxxx."
        )
    return f"Bluesky answered {response.status_code} ({error or response.reason}); try again."


# --- Keeping the session alive --------------------------------------------------------


def bluesky_access_jwt(*, account: Account, store: AccountStore) -> str:
    """The account's access JWT, renewed first when it expires within REFRESH_BEFORE."""
    if account.credentials_problem:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED, message=f"{account}: {account.credentials_problem}"
        )
    access_jwt = account.credentials.get("access_jwt")
    if not access_jwt:
        raise _needs_reauth_error(account)
    if not account.access_expires_within(REFRESH_BEFORE):
        return access_jwt
    return bluesky_session_refresh(account=account, store=store)


def bluesky_session_refresh(*, account: Account, store: AccountStore, refused: str = "") -> str:
    """A fresh access JWT, for which Bluesky is asked at most once however many workers
    need one at the same moment. `refused` is an access JWT the PDS just turned down:
    whatever else is stored is newer."""

    def renew(current: Account) -> Credentials | None:
        if current.needs_reauth:
            raise _needs_reauth_error(current)
        access_jwt = current.credentials.get("access_jwt", "")
        if refused:
            usable = bool(access_jwt) and access_jwt != refused
        else:
            usable = bool(access_jwt) and not current.access_expires_within(REFRESH_BEFORE)
        if usable:
            return None
        credentials = _refresh_exchange(current)
        logger.info("renewed the Bluesky session of account %s", current.id)
        return credentials

    try:
        fresh = store.credentials_renew(account=account, renew=renew)
    except CredentialsRefused:
        raise _needs_reauth_error(account) from None
    return fresh.credentials["access_jwt"]


def _refresh_exchange(account: Account) -> Credentials:
    refresh_jwt = account.credentials.get("refresh_jwt", "")
    if not refresh_jwt:
        raise CredentialsRefused("Kairos holds no refresh JWT for the account.")
    pds = pds_of(account)
    try:
        response = requests.post(
            f"{pds}/xrpc/com.atproto.server.refreshSession",
            headers={"Authorization": f"Bearer {refresh_jwt}"},
            timeout=_timeout(),
        )
    except requests.RequestException as exc:
        # Nothing was posted, so a retry cannot post twice (maybe_accepted stays false).
        raise PublishError(
            kind=ErrorKind.NETWORK,
            message=f"Could not renew the Bluesky session: no answer ({type(exc).__name__}).",
        ) from None
    if response.status_code == 200:
        return credentials_from(response.json(), pds=pds)
    try:
        error = response.json().get("error", "")
    except ValueError:
        error = ""
    if error in TOKEN_REFUSED or error == "AccountTakedown":
        raise CredentialsRefused(f"Bluesky refused the refresh JWT ({error})")
    kind = ErrorKind.RATE_LIMITED if response.status_code == 429 else ErrorKind.SERVER
    raise PublishError(
        kind=kind,
        message=f"Could not renew the Bluesky session: {pds} answered {response.status_code}.",
        http_status=response.status_code,
    )


def credentials_from(answer: dict, *, pds: str) -> Credentials:
    """What Kairos keeps of a session: the JWTs, the DID, and the account's own PDS.

    Signing in at bsky.social (an entryway) answers with a DID document naming the
    host that really keeps the account; later calls go there, and the video service
    wants that host named in its service token.
    """
    return Credentials(
        values={
            "access_jwt": answer["accessJwt"],
            "refresh_jwt": answer["refreshJwt"],
            "did": answer["did"],
            "pds": _pds_in(answer.get("didDoc")) or pds,
        },
        expires_at=_expiry(answer["accessJwt"]),
    )


def _pds_in(did_doc: object) -> str:
    if not isinstance(did_doc, dict):
        return ""
    for service in did_doc.get("service", []):
        if isinstance(service, dict) and service.get("id", "").endswith("#atproto_pds"):
            return str(service.get("serviceEndpoint", "")).rstrip("/")
    return ""


def pds_of(account: Account) -> str:
    return account.credentials.get("pds") or settings.BLUESKY_PDS_URL


def _expiry(jwt: str) -> datetime:
    """The access JWT's own `exp`, read without verifying (only the PDS can); two hours
    from now when it cannot be read."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return datetime.now(UTC) + ACCESS_LIFETIME


def _needs_reauth_error(account: Account) -> PublishError:
    return PublishError(
        kind=ErrorKind.AUTH_EXPIRED,
        message=f"Bluesky no longer accepts the sign-in of {account} (its app password was "
        "revoked, or the session ran out). The post waits: connect the account again with "
        "a new app password (Social accounts → Connect Bluesky account) and it goes out.",
        details={ACCOUNT_NEEDS_REAUTH: True},
    )


def _timeout() -> tuple[float, float]:
    return (settings.BLUESKY_CONNECT_TIMEOUT, settings.BLUESKY_READ_TIMEOUT)
