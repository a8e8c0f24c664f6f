"""Talking to Bluesky: the account's PDS (writes, getRecord) and the public AppView
(reads), the account's session, and reading every answer.

This is the only place that reads Bluesky's answers. Every one becomes JSON, a
rate-limit reading, or a `PublishError` of one `ErrorKind`. XRPC errors are
`{"error": "<Name>", "message": "…"}`, and the name decides, since the PDS and the
AppView give the same refusal different statuses (networks.md, Errors):

    ExpiredToken, InvalidToken   auth_expired  after one session renewal and one retry;
                                               a refused renewal waits for reconnecting
    AuthMissing, AuthRequired    auth_expired
    AccountTakedown, AccountDeactivated, 403
                                 forbidden     (what to do, said)
    other 400                    validation    (Bluesky's message)
    429                          rate_limited  retry at RateLimit-Reset
    5xx                          server        the post may exist: reconciled
    timeout/reset                network       likewise, unless the request never left

Bluesky has no duplicate-content refusal; a repeat of one of our posts is caught by its
record key (adapter.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from publishing.networks.base import (
    Account,
    AccountStore,
    ErrorKind,
    PublishError,
    WindowReading,
    account_key,
)
from publishing.networks.bluesky.session import (
    TOKEN_REFUSED,
    bluesky_access_jwt,
    bluesky_session_refresh,
    pds_of,
)

USER_AGENT = "Kairos"
# The XRPC error's name, kept in PublishError.details for the adapter's own checks.
XRPC_ERROR = "xrpc_error"
AUTH_REFUSED = frozenset({"AuthMissing", "AuthRequired", "AuthenticationRequired"})


class BlueskyClient:
    def __init__(self) -> None:
        self._pool: urllib3.PoolManager | None = None

    @property
    def pool(self) -> urllib3.PoolManager:
        # Made on first use, so each worker process (forked) gets its own connections;
        # urllib3 rather than requests for the CPU, as X's client explains.
        if self._pool is None:
            self._pool = _pool_for(settings.BLUESKY_PDS_URL)
        return self._pool

    def call(
        self,
        method: str,
        nsid: str,
        *,
        account: Account,
        store: AccountStore,
        endpoint: str = "post",
        params: dict | None = None,
        **payload,
    ) -> dict:
        """The PDS's JSON answer to one call made as the account. `json=` sends a JSON
        body, `body=` raw bytes (with a Content-Type in `headers=`), `params=` a query."""
        token = bluesky_access_jwt(account=account, store=store)
        url = _url(pds_of(account), nsid, params)
        send = {"account": account, "store": store, "endpoint": endpoint, **payload}
        response = self._send(method, url, token=token, **send)
        if _error_name(response) in TOKEN_REFUSED:
            # The PDS refused the session without acting on the request: renew it once
            # (or take the one another worker just got) and ask once more.
            token = bluesky_session_refresh(account=account, store=store, refused=token)
            response = self._send(method, url, token=token, **send)
        return _answer(response, writes=method != "GET")

    def read(
        self, nsid: str, *, account: Account, store: AccountStore, endpoint: str, params: dict
    ) -> dict:
        """The public AppView's answer to a read (posts, profiles, handles); no session."""
        url = _url(settings.BLUESKY_APPVIEW_URL, nsid, params)
        response = self._send("GET", url, token="", account=account, store=store, endpoint=endpoint)
        return _answer(response, writes=False)

    def service_call(
        self,
        method: str,
        base_url: str,
        nsid: str,
        *,
        token: str,
        account: Account,
        store: AccountStore,
        params: dict | None = None,
        **payload,
    ) -> dict:
        """A call to another Bluesky service (video) with a token the PDS granted for it."""
        url = _url(base_url, nsid, params)
        send = {"account": account, "store": store, "endpoint": "media", **payload}
        return _answer(self._send(method, url, token=token, **send), writes=method != "GET")

    def _send(
        self,
        method: str,
        url: str,
        *,
        token: str,
        account: Account,
        store: AccountStore,
        endpoint: str,
        headers: dict | None = None,
        **payload,
    ) -> urllib3.BaseHTTPResponse:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            # Sent once, whatever becomes of it: a POST sent again by the transport
            # could publish twice.
            response = self.pool.request(
                method,
                url,
                headers=headers,
                timeout=urllib3.Timeout(
                    connect=settings.BLUESKY_CONNECT_TIMEOUT, read=settings.BLUESKY_READ_TIMEOUT
                ),
                retries=False,
                redirect=False,
                **payload,
            )
        except HTTPError as exc:
            raise _transport_error(exc, writes=method != "GET") from None
        reading = _reading(response, account_id=account.id, endpoint=endpoint)
        if reading is not None:
            store.rate_limits_record([reading])
        return response


def _url(base: str, nsid: str, params: dict | None) -> str:
    url = f"{base}/xrpc/{nsid}"
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


def _pool_for(base_url: str) -> urllib3.PoolManager:
    """Connections through the proxy the environment names, as requests does."""
    parts = urlsplit(base_url)
    proxy = None if proxy_bypass(parts.hostname or "") else getproxies().get(parts.scheme)
    options = {"maxsize": 64, "block": False, "headers": {"User-Agent": USER_AGENT}}
    return urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)


# --- Classifying Bluesky's answers ----------------------------------------------------


def _transport_error(exc: HTTPError, *, writes: bool) -> PublishError:
    # Only a connection that was never made surely carried no request.
    never_sent = isinstance(exc, (NewConnectionError, ConnectTimeoutError))
    return PublishError(
        kind=ErrorKind.NETWORK,
        message=f"No answer from Bluesky ({type(exc).__name__}).",
        maybe_accepted=writes and not never_sent,
    )


def _body(response: urllib3.BaseHTTPResponse) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_name(response: urllib3.BaseHTTPResponse) -> str:
    return str(_body(response).get("error", "")) if response.status >= 400 else ""


def _answer(response: urllib3.BaseHTTPResponse, *, writes: bool) -> dict:
    if response.status < 300:
        return _body(response)
    raise answer_error(response, writes=writes)


def answer_error(response: urllib3.BaseHTTPResponse, *, writes: bool) -> PublishError:
    status = response.status
    body = _body(response)
    name = str(body.get("error", ""))
    detail = body.get("message") or name or response.reason

    def error(kind: ErrorKind, message: str, **extra) -> PublishError:
        return PublishError(
            kind=kind, message=message, http_status=status, details={XRPC_ERROR: name}, **extra
        )

    if name in TOKEN_REFUSED or name in AUTH_REFUSED:
        return error(
            ErrorKind.AUTH_EXPIRED,
            "Bluesky refused the account's session; connect the account again.",
        )
    if name == "AccountDeactivated":
        return error(
            ErrorKind.FORBIDDEN,
            "The account is deactivated on Bluesky, so it cannot post. Its owner reactivates "
            "it by signing in to Bluesky; then publish the post again.",
        )
    if name == "AccountTakedown":
        return error(
            ErrorKind.FORBIDDEN,
            "Bluesky has taken the account down, so it cannot post. Its owner can appeal in "
            "Bluesky's moderation settings; until then, cancel the post.",
        )
    if status == 403:
        return error(
            ErrorKind.FORBIDDEN,
            f"Bluesky forbade it: {detail}. Do that on Bluesky for the account, or connect "
            "it with an app password that may post.",
        )
    if status == 429:
        return error(
            ErrorKind.RATE_LIMITED,
            "Bluesky's rate limit is spent; waiting for it to reset.",
            retry_at=_reset(response),
        )
    if status >= 500:
        return error(
            ErrorKind.SERVER, f"Bluesky answered {status} ({detail}).", maybe_accepted=writes
        )
    if status == 400:
        return error(ErrorKind.VALIDATION, f"Bluesky refused the post: {detail}")
    return error(ErrorKind.UNKNOWN, f"Bluesky answered {status} ({detail}).")


def _reset(response: urllib3.BaseHTTPResponse) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(response.headers["RateLimit-Reset"]), tz=UTC)
    except (KeyError, ValueError):
        return None


def _reading(
    response: urllib3.BaseHTTPResponse, *, account_id: int, endpoint: str
) -> WindowReading | None:
    """The one window an answer describes: the one nearest to refusing (networks.md,
    Headers). Its policy (`5000;w=3600`) names its length."""
    headers = response.headers
    try:
        seconds = int(headers.get("RateLimit-Policy", "").partition("w=")[2])
        reading = WindowReading(
            key=account_key(account_id),
            endpoint=endpoint,
            window=_window_name(seconds),
            limit=int(headers["RateLimit-Limit"]),
            remaining=int(headers["RateLimit-Remaining"]),
            resets_at=datetime.fromtimestamp(int(headers["RateLimit-Reset"]), tz=UTC),
        )
    except (KeyError, ValueError):
        return None
    return reading


def _window_name(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
