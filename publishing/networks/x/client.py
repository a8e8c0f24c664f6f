"""Talking to X API v2: the connection pool, the account's token, and reading every answer.

This is the only place that reads X's answers. Every one becomes JSON, a
rate-limit reading, or a `PublishError` of one `ErrorKind`:

    400            validation     (X's message)
    401            auth_expired   after one token refresh and one retry
    402            billing        (credits spent; the account is flagged for staff)
    403 duplicate  duplicate      (terminal, unless an earlier attempt was uncertain)
    403 other      forbidden      (X's detail)
    429            rate_limited   retry at the latest reset among the spent windows;
                                  a usage cap (…/problems/usage-capped) is billing
    5xx            server         the post may exist: reconciled, not retried blindly
    timeout/reset  network        likewise, unless the request never left

Problem types are matched on their `/problems/<name>` suffix, because X sends
both api.twitter.com and api.x.com hosts in them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from publishing.networks.base import (
    APP_KEY,
    Account,
    AccountStore,
    ErrorKind,
    PublishError,
    WindowReading,
    account_key,
)
from publishing.networks.x.oauth import x_access_token, x_token_refresh


class XClient:
    def __init__(self) -> None:
        self._pool: urllib3.PoolManager | None = None

    @property
    def pool(self) -> urllib3.PoolManager:
        # Made on first use, so each worker process (forked) gets its own connections.
        # Threads share it (a batch's jobs go out side by side); past 64 at once, extra
        # connections are made and dropped.
        # urllib3 rather than requests: requests costs two to three times the CPU per
        # call, and publishing is bound by CPU.
        if self._pool is None:
            self._pool = pool_for(settings.X_API_BASE_URL)
        return self._pool

    @staticmethod
    def token(account: Account, store: AccountStore) -> str:
        """The account's access token, refreshed first when it is about to expire."""
        return x_access_token(account=account, store=store)

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str,
        account: Account,
        store: AccountStore,
        endpoint: str = "post",
        **kwargs,
    ) -> dict:
        """X's JSON answer to one call. `json=` sends a JSON body, `fields=` a multipart
        form (urllib3's form: a value or a (filename, data, mime type) tuple), and
        `params=` a query string."""
        send = {"account": account, "store": store, "endpoint": endpoint, **kwargs}
        response = self._send(method, path, token=token, **send)
        if response.status == 401:
            # X refused the token without acting on the request: refresh it once (or
            # take the one another worker just got) and ask once more.
            fresh = x_token_refresh(account=account, store=store, refused=token)
            response = self._send(method, path, token=fresh, **send)
        if response.status < 300:
            return response.json()
        error = _answer_error(response, writes=method != "GET")
        if error.kind == ErrorKind.BILLING:
            store.billing_problem(account=account, message=error.message)
        raise error

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
        **payload,
    ) -> urllib3.BaseHTTPResponse:
        url = f"{settings.X_API_BASE_URL}{path}"
        if params:
            url = f"{url}?{urlencode(params, doseq=True)}"
        try:
            # Sent once, whatever becomes of it: a POST sent again by the transport
            # could publish twice.
            response = self.pool.request(
                method,
                url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=urllib3.Timeout(
                    connect=settings.X_CONNECT_TIMEOUT, read=settings.X_READ_TIMEOUT
                ),
                retries=False,
                redirect=False,
                **payload,
            )
        except HTTPError as exc:
            raise _transport_error(exc, writes=method != "GET") from None
        store.rate_limits_record(_readings(response, account_id=account.id, endpoint=endpoint))
        return response


USER_AGENT = "Kairos"


def pool_for(base_url: str) -> urllib3.PoolManager:
    """Connections to `base_url`, through the proxy the environment names for it
    (HTTPS_PROXY / HTTP_PROXY, unless NO_PROXY covers the host), as requests does."""
    scheme, host = urlsplit(base_url).scheme, urlsplit(base_url).hostname or ""
    proxy = getproxies().get(scheme)
    options = {"maxsize": 64, "block": False, "headers": {"User-Agent": USER_AGENT}}
    if proxy and not proxy_bypass(host):
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


# --- Classifying X's answers ----------------------------------------------------------


def _transport_error(exc: HTTPError, *, writes: bool) -> PublishError:
    # Only a connection that was never made surely carried no request; a read timeout
    # or a connection closed mid-answer may come after X acted on it.
    never_sent = isinstance(exc, (NewConnectionError, ConnectTimeoutError))
    return PublishError(
        kind=ErrorKind.NETWORK,
        message=f"No answer from X ({type(exc).__name__}).",
        maybe_accepted=writes and not never_sent,
    )


def _problem(body: dict) -> str:
    return str(body.get("type", "")).rsplit("/problems/", 1)[-1]


def _answer_error(response: urllib3.BaseHTTPResponse, *, writes: bool) -> PublishError:
    status = response.status
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail") or body.get("title") or response.reason
    if body.get("errors") and body["errors"][0].get("message"):
        detail = body["errors"][0]["message"]

    def error(kind: ErrorKind, message: str, **extra) -> PublishError:
        return PublishError(
            kind=kind,
            message=message,
            http_status=status,
            request_id=response.headers.get("x-transaction-id", ""),
            **extra,
        )

    if status == 400:
        return error(ErrorKind.VALIDATION, f"X refused the post: {detail}")
    if status == 401:
        return error(
            ErrorKind.AUTH_EXPIRED, "X refused the account's token; reconnect the account."
        )
    if status == 402:
        return error(ErrorKind.BILLING, f"X refused for billing: {detail}")
    if status == 403 and "duplicate content" in str(detail).lower():
        return error(
            ErrorKind.DUPLICATE,
            "X refused the post as a duplicate of one already on the account; edit the "
            "text or cancel.",
        )
    if status == 403:
        return error(ErrorKind.FORBIDDEN, f"X forbade the post: {detail}")
    if status == 429 and _problem(body) == "usage-capped":
        return error(ErrorKind.BILLING, f"X's usage cap is reached: {detail}")
    if status == 429:
        return error(
            ErrorKind.RATE_LIMITED,
            "X's rate limit is spent; waiting for it to reset.",
            retry_at=_latest_spent_reset(response.headers),
        )
    if status >= 500:
        return error(ErrorKind.SERVER, f"X answered {status} ({detail}).", maybe_accepted=writes)
    return error(ErrorKind.UNKNOWN, f"X answered {status} ({detail}).")


WINDOWS = (
    # header prefix, window, whose
    ("x-rate-limit", "15m", "account"),
    ("x-user-limit-24hour", "24h", "account"),
    ("x-app-limit-24hour", "24h", "app"),
)


def _readings(response: urllib3.BaseHTTPResponse, *, account_id: int, endpoint: str):
    headers = response.headers
    for prefix, window, whose in WINDOWS:
        try:
            limit = int(headers[f"{prefix}-limit"])
            remaining = int(headers[f"{prefix}-remaining"])
            resets_at = datetime.fromtimestamp(int(headers[f"{prefix}-reset"]), tz=UTC)
        except (KeyError, ValueError):
            continue
        yield WindowReading(
            key=account_key(account_id) if whose == "account" else APP_KEY,
            endpoint=endpoint,
            window=window,
            limit=limit,
            remaining=remaining,
            resets_at=resets_at,
        )


def _latest_spent_reset(headers) -> datetime | None:
    """A 429 can come while the 15-minute window has requests left (a 24-hour one is
    spent), so wait for the latest reset among the spent windows."""
    resets = []
    for prefix, _, _ in WINDOWS:
        if headers.get(f"{prefix}-remaining") == "0" and headers.get(f"{prefix}-reset"):
            resets.append(int(headers[f"{prefix}-reset"]))
    if not resets and headers.get("x-rate-limit-reset"):
        resets.append(int(headers["x-rate-limit-reset"]))
    return datetime.fromtimestamp(max(resets), tz=UTC) if resets else None
