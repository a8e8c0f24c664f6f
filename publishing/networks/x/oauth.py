"""Connecting X accounts (OAuth 2.0 Authorization Code with PKCE) and keeping them connected.

What X does (platforms.md §3.1):

* The authorization code lives 30 seconds and works once; the redirect URI must
  match the registered one exactly.
* A confidential client (Web App) authenticates with HTTP Basic; a public one
  names itself with `client_id` in the body. Like tweepy, Kairos sends `client_id`
  in the body either way.
* An access token lives 2 hours. Every refresh returns a new refresh token and the
  old one stops working (observed in practice; X's docs do not say so). A
  spent or revoked refresh token is answered `400 invalid_request` (some answers
  say `invalid_grant`).

So one refresh at a time per account, and its new pair saved at once: see
`x_token_refresh`. Who may connect an account, and where it is kept, is the
caller's business (publishing/connect.py); this module only speaks to X.

requests-oauthlib refuses plain HTTP unless OAUTHLIB_INSECURE_TRANSPORT is set,
which only the tests do, for the fake X.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import requests
from django.conf import settings
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    Account,
    AccountStore,
    ConnectError,
    Connection,
    ConnectOff,
    Credentials,
    CredentialsRefused,
    ErrorKind,
    Profile,
    PublishError,
)

logger = logging.getLogger(__name__)

SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
# RFC 7636 allows 43 to 128 characters; tweepy, like Kairos, uses the longest.
VERIFIER_LENGTH = 128
# A token expiring sooner than this is refreshed before use, and by the periodic task.
REFRESH_BEFORE = timedelta(minutes=15)
PROFILE_FIELDS = "profile_image_url,public_metrics,subscription_type"
# How X words a refresh token it no longer takes (platforms.md §3.1).
REFRESH_TOKEN_REFUSED = frozenset({"invalid_request", "invalid_grant"})


# --- Connecting an account ------------------------------------------------------------


def x_connect_start(*, state_for: Callable[[str], str]) -> str:
    """The X address where the person signs in and allows Kairos (PKCE, S256)."""
    if not settings.X_CLIENT_ID:
        raise ConnectOff(
            "Connecting X accounts is off: set X_CLIENT_ID (and X_CLIENT_SECRET for a "
            "confidential app) to the keys of the app in X's developer portal.",
            setting="X_CLIENT_ID",
        )
    client = WebApplicationClient(settings.X_CLIENT_ID)
    verifier = client.create_code_verifier(VERIFIER_LENGTH)
    url, _ = _session(client=client, scope=SCOPES).authorization_url(
        settings.X_AUTHORIZE_URL,
        state=state_for(verifier),
        code_challenge=client.create_code_challenge(verifier, "S256"),
        code_challenge_method="S256",
    )
    return url


def x_connect_finish(*, code: str, verifier: str) -> Connection:
    """Trade the code X sent back for the account's tokens, and ask X who signed in."""
    credentials = x_code_exchange(code=code, code_verifier=verifier)
    return Connection(
        credentials=credentials,
        profile=x_profile_fetch(access_token=credentials.values["access_token"]),
    )


def x_code_exchange(*, code: str, code_verifier: str) -> Credentials:
    """Trade the authorization code X sent back for the account's tokens."""
    try:
        token = _session().fetch_token(
            settings.X_TOKEN_URL,
            code=code,
            code_verifier=code_verifier,
            include_client_id=True,
            auth=_client_auth(),
            timeout=_timeout(),
        )
    except OAuth2Error as refusal:
        raise ConnectError(
            f"X refused to finish the sign-in ({refusal.error}: {refusal.description}). "
            "Its codes work once and for 30 seconds; connect the account again."
        ) from None
    except _TokenEndpointUnavailable as exc:
        raise ConnectError(f"{exc}; connect the account again in a moment.") from None
    except requests.RequestException as exc:
        raise ConnectError(
            f"X did not answer ({type(exc).__name__}); connect the account again in a moment."
        ) from None
    if not token.get("refresh_token"):
        raise ConnectError(
            "X gave no refresh token, so Kairos could not keep the account connected past "
            "two hours. Connect again and allow offline access."
        )
    return _credentials_from(token)


def x_profile_fetch(*, access_token: str) -> Profile:
    """Who signed in, from X, with the token just granted."""
    try:
        response = requests.get(
            f"{settings.X_API_BASE_URL}/2/users/me",
            params={"user.fields": PROFILE_FIELDS},
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=_timeout(),
        )
    except requests.RequestException as exc:
        raise ConnectError(
            f"X did not say which account signed in ({type(exc).__name__}); connect again."
        ) from None
    if response.status_code != 200:
        raise ConnectError(
            f"X did not say which account signed in (it answered {response.status_code}); "
            "connect again."
        )
    return x_profile_from_answer(response.json())


def x_profile_from_answer(answer: dict) -> Profile:
    """A Profile from the answer to GET /2/users/me with PROFILE_FIELDS."""
    data = answer["data"]
    return Profile(
        external_id=data["id"],
        handle=data["username"],
        display_name=data.get("name", ""),
        avatar_url=data.get("profile_image_url", ""),
        followers_count=data.get("public_metrics", {}).get("followers_count"),
        subscription_type=data.get("subscription_type", ""),
    )


# --- Keeping the tokens fresh ---------------------------------------------------------


def x_access_token(*, account: Account, store: AccountStore) -> str:
    """The account's access token, refreshed first when it expires within REFRESH_BEFORE.

    An account connected without a known expiry is refreshed only when X refuses it.
    """
    if account.credentials_problem:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED, message=f"{account}: {account.credentials_problem}"
        )
    access_token = account.credentials.get("access_token")
    if not access_token:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED, message=f"{account} has no X token; connect it again."
        )
    if not account.access_expires_within(REFRESH_BEFORE):
        return access_token
    return x_token_refresh(account=account, store=store)


def x_token_refresh(*, account: Account, store: AccountStore, refused: str = "") -> str:
    """A fresh access token for the account, for which X is asked at most once however
    many workers need one at the same moment.

    `refused` is a token X just turned down (a 401): whatever else is stored is newer.
    Without it, the stored token is replaced only if it still expires within
    REFRESH_BEFORE.

    The store runs `renew` holding the account's row lock, on the credentials read
    again once the lock is held (AccountStore.credentials_renew). Refresh tokens work
    once, so a second worker exchanging the token the first had just spent would be
    refused and wrongly send the account to reconnecting; instead it waits for the
    lock, finds the new pair, and uses it. The new pair is committed the moment X
    has issued it. The lock is held for one call to X, bounded by the X timeouts.

    If that call times out after X acted on it, the new pair is lost with the answer
    and the old refresh token is spent: the account then needs reconnecting. Nothing
    on X's side allows better.
    """

    def renew(current: Account) -> Credentials | None:
        if current.needs_reauth:
            raise _needs_reauth_error(current)
        if current.credentials_problem:
            raise PublishError(
                kind=ErrorKind.AUTH_EXPIRED, message=f"{current}: {current.credentials_problem}"
            )
        access_token = current.credentials.get("access_token", "")
        if refused:
            # Any other token was stored by a refresh that ran while we waited.
            usable = bool(access_token) and access_token != refused
        else:
            usable = bool(access_token) and not current.access_expires_within(REFRESH_BEFORE)
        if usable:
            return None
        credentials = _refresh_exchange(refresh_token=current.credentials.get("refresh_token", ""))
        logger.info("refreshed the X token of account %s", current.id)
        return credentials

    try:
        fresh = store.credentials_renew(account=account, renew=renew)
    except CredentialsRefused:
        raise _needs_reauth_error(account) from None
    return fresh.credentials["access_token"]


class _TokenEndpointUnavailable(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"X's token endpoint answered {status}")
        self.status = status


def _refresh_exchange(*, refresh_token: str) -> Credentials:
    if not settings.X_CLIENT_ID:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED,
            message="Kairos cannot refresh X tokens without X_CLIENT_ID: set it to the app the "
            "account was connected with, or reconnect the account once it is set.",
        )
    if not refresh_token:
        raise CredentialsRefused("Kairos holds no refresh token for the account.")
    try:
        token = _session().refresh_token(
            settings.X_TOKEN_URL,
            refresh_token=refresh_token,
            auth=_client_auth(),
            timeout=_timeout(),
            client_id=settings.X_CLIENT_ID,
        )
    except OAuth2Error as refusal:
        if refusal.error in REFRESH_TOKEN_REFUSED:
            raise CredentialsRefused(
                f"X refused the refresh token ({refusal.error}: {refusal.description})"
            ) from None
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED,
            message=f"X refused Kairos's app keys while refreshing a token ({refusal.error}: "
            f"{refusal.description}); check X_CLIENT_ID and X_CLIENT_SECRET.",
        ) from None
    except _TokenEndpointUnavailable as exc:
        kind = ErrorKind.RATE_LIMITED if exc.status == 429 else ErrorKind.SERVER
        raise PublishError(
            kind=kind, message=f"Could not refresh the X token: {exc}.", http_status=exc.status
        ) from None
    except requests.RequestException as exc:
        # Nothing was posted, so a retry cannot post twice (maybe_accepted stays false).
        raise PublishError(
            kind=ErrorKind.NETWORK,
            message=f"Could not refresh the X token: no answer from X ({type(exc).__name__}).",
        ) from None
    return _credentials_from(token)


def _needs_reauth_error(account: Account) -> PublishError:
    return PublishError(
        kind=ErrorKind.AUTH_EXPIRED,
        message=f"X no longer accepts the sign-in of {account}. The post waits: reconnect "
        "the account (Social accounts → Connect X account) and it goes out.",
        details={ACCOUNT_NEEDS_REAUTH: True},
    )


def _session(
    *, client: WebApplicationClient | None = None, scope: tuple[str, ...] = ()
) -> OAuth2Session:
    session = OAuth2Session(
        client_id=settings.X_CLIENT_ID,
        client=client,
        redirect_uri=settings.X_REDIRECT_URI,
        scope=list(scope) if scope else None,
    )
    for hook in ("access_token_response", "refresh_token_response"):
        session.register_compliance_hook(hook, _unavailable_raises)
    return session


def _unavailable_raises(response: requests.Response) -> requests.Response:
    # Without this, a 5xx page or a 429 would reach oauthlib's parser and come out as
    # a "missing access token", which says nothing useful.
    if response.status_code == 429 or response.status_code >= 500:
        raise _TokenEndpointUnavailable(response.status_code)
    return response


def _client_auth() -> HTTPBasicAuth | None:
    if settings.X_CLIENT_SECRET:
        return HTTPBasicAuth(settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)
    return None


def _timeout() -> tuple[float, float]:
    return (settings.X_CONNECT_TIMEOUT, settings.X_READ_TIMEOUT)


def _credentials_from(token: dict) -> Credentials:
    return Credentials(
        values={
            "access_token": token["access_token"],
            "refresh_token": token.get("refresh_token", ""),
        },
        expires_at=datetime.now(UTC) + timedelta(seconds=int(token["expires_in"])),
    )
