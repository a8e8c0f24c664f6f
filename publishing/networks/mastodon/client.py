"""Talking to a Mastodon instance: the connection pool, the account's token, and reading
every answer.

Each account lives on its own instance (`instance_url` in its credentials); one pool
serves them all. This is the only place that reads Mastodon's answers. Every one
becomes JSON, a rate-limit reading, or a `PublishError` of one `ErrorKind`:

    401            auth_expired   Mastodon tokens never expire, so a refused one was
                                  revoked: the account waits for reconnecting (unless
                                  it was reconnected meanwhile: then once more)
    403            forbidden      a scope missing (saying which to allow), or the
                                  login disabled by the instance's staff
    404            unknown        (a post that is gone is the caller's business)
    422            validation     Mastodon's own sentence; media still processing is
                                  `server` (retried, nothing was made)
    429            rate_limited   retry at X-RateLimit-Reset (an ISO 8601 instant)
    5xx            server         the post may exist: reconciled, not retried blindly
    timeout/reset  network        likewise, unless the request never left

Mastodon refuses no post as a duplicate: the same words twice are two posts, and
the same Idempotency-Key twice is one (the first one's answer), so `duplicate`
never comes from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    Account,
    AccountStore,
    Credentials,
    CredentialsRefused,
    ErrorKind,
    PublishError,
    WindowReading,
    account_key,
)

USER_AGENT = "Kairos"
# The headers describe one throttle, the nearest to being spent; which one is not said.
WINDOW = "x-ratelimit"
NOT_PROCESSED = "have not finished processing"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: urllib3.HTTPHeaderDict


class MastodonClient:
    def __init__(self) -> None:
        self._pool: urllib3.PoolManager | None = None

    @property
    def pool(self) -> urllib3.PoolManager:
        # Made on first use, so each worker process (forked) gets its own connections.
        # urllib3 rather than requests, as for X: publishing is bound by CPU.
        if self._pool is None:
            self._pool = urllib3.PoolManager(
                maxsize=64, block=False, headers={"User-Agent": USER_AGENT}
            )
        return self._pool

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The instance's JSON answer to one call; see `answer`."""
        return self.answer(method, path, **kwargs).body

    def answer(
        self,
        method: str,
        path: str,
        *,
        account: Account,
        store: AccountStore,
        endpoint: str,
        scope: str = "",
        **kwargs: Any,
    ) -> Answer:
        """One call with the account's token. `json=` sends a JSON body, `fields=` a
        multipart form, `params=` a query string (a list value repeats the name), and
        `headers=` more headers. `scope` names what a 403 asks to allow."""
        token = mastodon_access_token(account)
        response = self._send(
            method, path, token=token, account=account, store=store, endpoint=endpoint, **kwargs
        )
        if response.status == 401:
            token = _token_after_refusal(account=account, store=store, refused=token)
            response = self._send(
                method, path, token=token, account=account, store=store, endpoint=endpoint, **kwargs
            )
        if response.status < 300:
            return Answer(response.status, _body(response), response.headers)
        raise _answer_error(response, writes=method != "GET", scope=scope)

    def _send(
        self,
        method: str,
        path: str,
        *,
        token: str,
        account: Account,
        store: AccountStore,
        endpoint: str,
        params: dict | None = None,
        headers: dict | None = None,
        **payload: Any,
    ) -> urllib3.BaseHTTPResponse:
        url = f"{instance_url(account)}{path}"
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        try:
            # Sent once, whatever becomes of it: a POST sent again by the transport
            # could publish twice (the Idempotency-Key covers statuses, not media).
            response = self.pool.request(
                method,
                url,
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
                timeout=urllib3.Timeout(
                    connect=settings.MASTODON_CONNECT_TIMEOUT, read=settings.MASTODON_READ_TIMEOUT
                ),
                retries=False,
                redirect=False,
                **payload,
            )
        except HTTPError as exc:
            raise _transport_error(exc, account=account, writes=method != "GET") from None
        reading = _reading(response, account_id=account.id, endpoint=endpoint)
        if reading is not None:
            store.rate_limits_record([reading])
        return response


def instance_url(account: Account) -> str:
    return account.credentials.get("instance_url", "").rstrip("/")


def mastodon_access_token(account: Account) -> str:
    if account.credentials_problem:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED, message=f"{account}: {account.credentials_problem}"
        )
    token = account.credentials.get("access_token")
    if not token or not instance_url(account):
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED,
            message=f"{account} has no Mastodon sign-in; connect it again.",
            details={ACCOUNT_NEEDS_REAUTH: True},
        )
    return token


def _token_after_refusal(*, account: Account, store: AccountStore, refused: str) -> str:
    """The token to try once more after the instance refused `refused`, or the error that
    sends the account to reconnecting.

    Mastodon's tokens have no expiry and no refresh: a refusal means the person
    removed Kairos from their authorized apps, or the instance's staff revoked it.
    Under the account's row lock (AccountStore.credentials_renew), a token other
    than the refused one was stored by a reconnect meanwhile, and is worth one try;
    otherwise the account is marked for reconnecting, committed, before we raise.
    """

    def renew(current: Account) -> Credentials | None:
        if current.credentials.get("access_token", refused) == refused:
            raise CredentialsRefused(f"{instance_url(current)} refused the account's token")
        return None

    try:
        fresh = store.credentials_renew(account=account, renew=renew)
    except CredentialsRefused:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED,
            message=f"Mastodon no longer accepts the sign-in of {account} (Kairos was removed "
            "from its authorized apps, or the instance revoked it). The post waits: reconnect "
            "the account (Social accounts → Connect Mastodon account) and it goes out.",
            http_status=401,
            details={ACCOUNT_NEEDS_REAUTH: True},
        ) from None
    return fresh.credentials["access_token"]


# --- Classifying the answers ----------------------------------------------------------


def _body(response: urllib3.BaseHTTPResponse) -> Any:
    try:
        return json.loads(response.data or b"null")
    except ValueError:
        return None


def _transport_error(exc: HTTPError, *, account: Account, writes: bool) -> PublishError:
    # Only a connection that was never made surely carried no request; a read timeout
    # or a connection closed mid-answer may come after the instance acted on it.
    never_sent = isinstance(exc, (NewConnectionError, ConnectTimeoutError))
    return PublishError(
        kind=ErrorKind.NETWORK,
        message=f"No answer from {instance_url(account)} ({type(exc).__name__}).",
        maybe_accepted=writes and not never_sent,
    )


def _answer_error(response: urllib3.BaseHTTPResponse, *, writes: bool, scope: str) -> PublishError:
    status = response.status
    body = _body(response)
    detail = body.get("error") if isinstance(body, dict) else None
    detail = detail or response.reason or f"HTTP {status}"

    def error(kind: ErrorKind, message: str, **extra: Any) -> PublishError:
        return PublishError(
            kind=kind,
            message=message,
            http_status=status,
            request_id=response.headers.get("x-request-id", ""),
            **extra,
        )

    if status == 401:
        return error(
            ErrorKind.AUTH_EXPIRED,
            "Mastodon refused the account's sign-in; reconnect the account.",
            details={ACCOUNT_NEEDS_REAUTH: True},
        )
    if status == 403 and "scope" in detail.lower():
        return error(
            ErrorKind.FORBIDDEN,
            f"Mastodon refused: the account's sign-in does not allow {scope or 'this'} "
            f"(“{detail}”). Reconnect the account and allow Kairos to "
            f"{_SCOPE_WORDS.get(scope, 'do this')}.",
        )
    if status == 403:
        return error(
            ErrorKind.FORBIDDEN,
            f"Mastodon refused the account: “{detail}”. Ask the instance's staff, then "
            "publish again.",
        )
    if status == 422 and NOT_PROCESSED in detail:
        return error(ErrorKind.SERVER, f"Mastodon was still processing a file: {detail}")
    if status == 422:
        return error(ErrorKind.VALIDATION, f"Mastodon refused the post: {detail}")
    if status == 429:
        return error(
            ErrorKind.RATE_LIMITED,
            "Mastodon's rate limit for the account is spent; waiting for it to reset.",
            retry_at=_reset(response.headers),
        )
    if status >= 500:
        return error(
            ErrorKind.SERVER, f"Mastodon answered {status} ({detail}).", maybe_accepted=writes
        )
    return error(ErrorKind.UNKNOWN, f"Mastodon answered {status} ({detail}).")


_SCOPE_WORDS = {
    "write:statuses": "publish posts (write:statuses)",
    "write:media": "upload media (write:media)",
    "read:statuses": "read its posts (read:statuses)",
    "profile": "read its profile (profile)",
}


def _reset(headers: urllib3.HTTPHeaderDict) -> datetime | None:
    try:
        return datetime.fromisoformat(headers["x-ratelimit-reset"])
    except (KeyError, ValueError):
        return None


def _reading(
    response: urllib3.BaseHTTPResponse, *, account_id: int, endpoint: str
) -> WindowReading | None:
    headers = response.headers
    try:
        limit = int(headers["x-ratelimit-limit"])
        remaining = int(headers["x-ratelimit-remaining"])
    except (KeyError, ValueError):
        return None
    resets_at = _reset(headers)
    if resets_at is None:
        return None
    return WindowReading(
        key=account_key(account_id),
        endpoint=endpoint,
        window=WINDOW,
        limit=limit,
        remaining=remaining,
        resets_at=resets_at,
    )
