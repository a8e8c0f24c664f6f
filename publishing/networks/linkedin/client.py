"""LinkedIn's API as Kairos calls it: the connection pool, the versioned headers, the
account's token (renewed or sent to reconnecting), and reading every answer.

Every /rest/ call carries `LinkedIn-Version: <LINKEDIN_VERSION>` and
`X-Restli-Protocol-Version: 2.0.0`. This is the only place that reads LinkedIn's
answers; each becomes JSON (with the headers, for `x-restli-id`), or a `PublishError`
of one `ErrorKind` (reference/networks.md, LinkedIn → Errors):

    401 65600/65601/65602  auth_expired   the token is invalid, revoked or expired: renewed
                                          where a refresh token was granted (partner apps),
                                          else the account waits for reconnecting
    403 ACCESS_DENIED      forbidden      a scope missing, named so staff grant it
    426 NONEXISTENT_VERSION unknown       LINKEDIN_VERSION was sunset: the job waits for an
                                          operator to change the setting (nothing was made)
    429                    rate_limited   daily limits reset at midnight UTC; no header says
                                          which limit, so the wait is the sooner of midnight
                                          and an hour
    422 DUPLICATE_POST     duplicate      the same commentary by the author recently; the
                                          URN it names is kept in the details
    400, other 422         validation
    5xx                    server         a post may exist: reconciled, not retried blindly
    timeout/reset          network        likewise, unless the request never left
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    OPERATOR_WAIT,
    WAITS_FOR_OPERATOR,
    Account,
    AccountStore,
    CredentialsRefused,
    ErrorKind,
    PublishError,
)
from publishing.networks.linkedin.oauth import renewal_after_refusal

USER_AGENT = "Kairos"
RESTLI_PROTOCOL = "2.0.0"
RECONNECT = "Social accounts → Connect LinkedIn"
# The URN a DUPLICATE_POST names ("Content is a duplicate of urn:li:share:…").
DUPLICATE_OF = "duplicate_of"
DUPLICATE_URN = re.compile(r"urn:li:(?:share|ugcPost):\d+")
SERVICE_ERROR_CODE = "service_error_code"
# The longest a spent allowance waits when midnight UTC is further away [inf].
THROTTLE_WAIT = timedelta(hours=1)


# LinkedIn-Version: YYYYMM, or YYYYMM.RR for a revision of that month's version.
VERSION_FORMAT = re.compile(r"(\d{4})(0[1-9]|1[0-2])(\.\d{2})?")


def version_retired_from(version: str) -> date | None:
    """The day from which LinkedIn may refuse `version` (YYYYMM): each monthly version
    is kept at least a year, and retired about the 15th of its month a year on
    (reference/networks.md: 202510 on 2026-10-15, 202511 on 2026-11-16). None for a
    value that is no version."""
    matched = VERSION_FORMAT.fullmatch(version)
    if matched is None:
        return None
    return date(int(matched[1]) + 1, int(matched[2]), 15)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: urllib3.HTTPHeaderDict
    body: Any


def urn_path(urn: str) -> str:
    """A URN as a path segment: every reserved character encoded."""
    return quote(urn, safe="")


class LinkedInClient:
    def __init__(self) -> None:
        self._pool: urllib3.PoolManager | None = None

    @property
    def pool(self) -> urllib3.PoolManager:
        # Made on first use, so each worker process (forked) gets its own connections.
        if self._pool is None:
            self._pool = urllib3.PoolManager(
                maxsize=64, block=False, headers={"User-Agent": USER_AGENT}
            )
        return self._pool

    def call(
        self,
        method: str,
        path: str,
        *,
        account: Account,
        store: AccountStore,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        needs: str = "",
        creates_post: bool = False,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        """One call with the account's token. `needs` names the scope a refusal asks staff
        to grant; `creates_post` says whether an answer lost on the way may hide a new
        post; a status in `accept` (404 for a delete) is answered, not raised."""
        token = self._usable_token(account=account, store=store)
        answer = self._send(method, path, token, params, body, creates_post=creates_post)
        if answer.status == 401:
            token = self._token_after_refusal(account=account, store=store, refused=token)
            answer = self._send(method, path, token, params, body, creates_post=creates_post)
        if answer.status < 300 or answer.status in accept:
            return answer
        raise answer_error(answer, writes=creates_post, needs=needs)

    def upload(
        self, url: str, data: bytes, *, account: Account, store: AccountStore, content_type: str
    ) -> Answer:
        """PUT a file's bytes (or a video's part) to the address LinkedIn gave, with the
        account's token; the answer's headers hold a video part's `etag`."""
        token = self._usable_token(account=account, store=store)
        answer = self._request(
            "PUT",
            url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
            body=data,
            creates_post=False,
        )
        if answer.status >= 300:
            raise answer_error(answer, writes=False, needs="w_member_social")
        return answer

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        *,
        creates_post: bool,
    ) -> Answer:
        url = f"{settings.LINKEDIN_API_BASE_URL}{path}"
        if params:
            url = f"{url}?{urlencode(params, safe='(),')}"
        headers = {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": settings.LINKEDIN_VERSION,
            "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
        }
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode()
        return self._request(method, url, headers=headers, body=payload, creates_post=creates_post)

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        body: bytes | None,
        creates_post: bool,
    ) -> Answer:
        try:
            # Sent once, whatever becomes of it: a post sent again by the transport could
            # publish twice, and LinkedIn takes no idempotency key.
            response = self.pool.request(
                method,
                url,
                headers=headers,
                body=body,
                timeout=urllib3.Timeout(
                    connect=settings.LINKEDIN_CONNECT_TIMEOUT, read=settings.LINKEDIN_READ_TIMEOUT
                ),
                retries=False,
                redirect=False,
            )
        except HTTPError as exc:
            never_sent = isinstance(exc, NewConnectionError | ConnectTimeoutError)
            raise PublishError(
                kind=ErrorKind.NETWORK,
                message=f"No answer from LinkedIn ({type(exc).__name__}).",
                maybe_accepted=creates_post and not never_sent,
            ) from None
        try:
            decoded = json.loads(response.data) if response.data else None
        except ValueError:
            decoded = None
        return Answer(status=response.status, headers=response.headers, body=decoded)

    def _usable_token(self, *, account: Account, store: AccountStore) -> str:
        """The account's token; one that has lapsed is renewed where a refresh token
        allows, else the account is marked for reconnecting (as after a refusal)."""
        if account.credentials_problem:
            raise PublishError(
                kind=ErrorKind.AUTH_EXPIRED, message=f"{account}: {account.credentials_problem}"
            )
        token = account.credentials.get("access_token", "")
        if not token or account.access_expires_within(timedelta(0)):
            return self._token_after_refusal(account=account, store=store, refused=token)
        return token

    def _token_after_refusal(self, *, account: Account, store: AccountStore, refused: str) -> str:
        """The token to try once more after LinkedIn refused `refused`, or the error that
        sends the account to reconnecting. Under the account's row lock
        (AccountStore.credentials_renew): a token stored meanwhile by a reconnect or
        another worker's renewal is tried; else a refresh token renews it; else the
        account is marked for reconnecting, committed, and its jobs wait for it."""
        try:
            fresh = store.credentials_renew(account=account, renew=renewal_after_refusal(refused))
        except CredentialsRefused:
            raise PublishError(
                kind=ErrorKind.AUTH_EXPIRED,
                message=f"LinkedIn no longer accepts the sign-in of {account} (it expired after "
                "60 days, or Kairos was removed from the member's apps). The post waits: "
                f"reconnect the account ({RECONNECT}) and it goes out.",
                http_status=401,
                details={ACCOUNT_NEEDS_REAUTH: True},
            ) from None
        return fresh.credentials["access_token"]


def answer_error(answer: Answer, *, writes: bool, needs: str = "") -> PublishError:
    status = answer.status
    body = answer.body if isinstance(answer.body, dict) else {}
    said = str(body.get("message") or f"HTTP {status}")
    code = str(body.get("code", ""))
    request_id = answer.headers.get("x-li-uuid", "")
    input_codes = {
        str(item.get("code", ""))
        for item in ((body.get("errorDetails") or {}).get("inputErrors") or [])
        if isinstance(item, dict)
    }

    def error(kind: ErrorKind, message: str, **extra: Any) -> PublishError:
        details = {SERVICE_ERROR_CODE: body.get("serviceErrorCode"), **extra.pop("details", {})}
        return PublishError(
            kind=kind,
            message=message,
            http_status=status,
            request_id=request_id,
            details=details,
            **extra,
        )

    if status == 401:
        return error(
            ErrorKind.AUTH_EXPIRED,
            f"LinkedIn refused the account's sign-in ({said}); reconnect the account "
            f"({RECONNECT}).",
            details={ACCOUNT_NEEDS_REAUTH: True},
        )
    if status == 403:
        grant = needs or "the scopes Kairos asks for"
        return error(
            ErrorKind.FORBIDDEN,
            f"LinkedIn refused: the sign-in lacks a permission (“{said}”). Make sure Kairos's "
            f"LinkedIn app has the product that gives {grant}, then reconnect the account "
            f"({RECONNECT}) and allow it.",
        )
    if status == 426:
        return error(
            ErrorKind.UNKNOWN,
            f"LinkedIn no longer accepts API version {settings.LINKEDIN_VERSION} (“{said}”); "
            "nothing was posted. An operator sets LINKEDIN_VERSION to a current month "
            "(YYYYMM, within the last year) and restarts Kairos; until then the post waits "
            f"and is tried again every {OPERATOR_WAIT.seconds // 60} minutes.",
            details={WAITS_FOR_OPERATOR: True},
        )
    if status == 429:
        return error(
            ErrorKind.RATE_LIMITED,
            f"LinkedIn's limit for the account is spent (“{said}”); waiting for it to return.",
            retry_at=throttled_until(_now()),
        )
    if status == 422 and "DUPLICATE_POST" in input_codes:
        duplicate = DUPLICATE_URN.search(said)
        return error(
            ErrorKind.DUPLICATE,
            "LinkedIn refused the post as a duplicate of one already on the account"
            f"{' (' + duplicate.group(0) + ')' if duplicate else ''}; edit the text or cancel.",
            details={DUPLICATE_OF: duplicate.group(0) if duplicate else ""},
        )
    if status >= 500:
        return error(
            ErrorKind.SERVER, f"LinkedIn answered {status} ({said}).", maybe_accepted=writes
        )
    if status in (400, 422):
        return error(ErrorKind.VALIDATION, f"LinkedIn refused the post: {said}")
    return error(
        ErrorKind.UNKNOWN, f"LinkedIn answered {status} ({said}{' ' + code if code else ''})."
    )


def throttled_until(now: datetime) -> datetime:
    """LinkedIn's daily limits come back at midnight UTC; a throttle of one resource
    sooner. Neither says which, so wait until midnight or an hour, whichever is sooner."""
    midnight = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC)
    return min(midnight, now + THROTTLE_WAIT)


def _now() -> datetime:
    return datetime.now(UTC)
