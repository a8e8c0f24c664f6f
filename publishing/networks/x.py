"""X API v2: publish posts and threads, and find them again for reconciliation.

This is the only place that reads X's answers. Every one becomes a result, a
rate-limit reading, or a `PublishError` of one `ErrorKind`:

    400            validation     (X's message)
    401            auth_expired   (the token was refused)
    402            billing        (credits spent)
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

import html
import re
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from twitter_text import parse_tweet
from urllib3.exceptions import MaxRetryError, NewConnectionError

from accounts.models import SocialAccount
from accounts.services import social_account_credentials
from publishing.networks.base import (
    ErrorKind,
    Lookup,
    NetworkAdapter,
    PartContent,
    PartPublished,
    Presence,
    PublishError,
    PublishRequest,
    PublishResult,
)
from publishing.ratelimits import APP_KEY, WindowReading, account_key, rate_limits_record

MAX_WEIGHTED_LENGTH = 280
# How far back a reconciliation reads the account's timeline, at 100 posts a page.
LOOKUP_PAGES = 5
URL_PATTERN = re.compile(r"https?://\S+")


class XAdapter(NetworkAdapter):
    network = SocialAccount.Network.X

    def __init__(self) -> None:
        self._session: requests.Session | None = None

    # --- The interface ------------------------------------------------------------

    def validate(self, *, account: SocialAccount, parts: tuple[PartContent, ...]) -> list[str]:
        problems = []
        for number, part in enumerate(parts, start=1):
            if part.media:
                problems.append(
                    f"Part {number} has media; Kairos cannot upload media to X yet. "
                    "Remove it or publish to another network."
                )
            if not part.text.strip():
                problems.append(f"Part {number} is empty; X needs text.")
                continue
            weighted = parse_tweet(part.text).weightedLength
            if weighted > MAX_WEIGHTED_LENGTH:
                problems.append(
                    f"Part {number} counts {weighted} of X's {MAX_WEIGHTED_LENGTH} characters "
                    "(links count 23, emoji and CJK count 2); shorten it by "
                    f"{weighted - MAX_WEIGHTED_LENGTH} or split it into a thread."
                )
        return problems

    def publish(
        self, request: PublishRequest, *, on_part_published: PartPublished
    ) -> PublishResult:
        token = self._token(request.account)
        part_ids = list(request.published_part_ids)
        for index, part in enumerate(request.parts):
            if index < len(part_ids):
                continue
            body: dict[str, Any] = {"text": part.text}
            if part_ids:
                body["reply"] = {"in_reply_to_tweet_id": part_ids[-1]}
            answer = self._call(
                "POST", "/2/tweets", token=token, account=request.account, json=body
            )
            part_ids.append(answer["data"]["id"])
            on_part_published(index, part_ids[-1])
        return PublishResult(
            external_id=part_ids[0],
            url=self.post_url(account=request.account, external_id=part_ids[0]),
            part_ids=tuple(part_ids),
        )

    def find_part(self, request: PublishRequest, *, index: int, since: datetime) -> Lookup:
        """Read the account's posts since `since` and look for the part's text.

        X has no idempotency key, so text is what we match on (with links
        normalised: X rewrites them to t.co). A reply must also answer the part
        before it, so the same text posted elsewhere is not mistaken for ours.
        """
        account = request.account
        wanted = _comparable(request.parts[index].text)
        reply_to = request.published_part_ids[-1] if index else None
        params: dict[str, Any] = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": 100,
            "tweet.fields": "created_at,referenced_tweets",
        }
        try:
            token = self._token(account)
            for _ in range(LOOKUP_PAGES):
                page = self._call(
                    "GET",
                    f"/2/users/{account.external_id}/tweets",
                    token=token,
                    account=account,
                    params=params,
                    endpoint="timeline",
                )
                for post in page.get("data", []):
                    if _comparable(post["text"]) == wanted and _replies_to(post, reply_to):
                        return Lookup(presence=Presence.FOUND, external_id=post["id"])
                next_token = page.get("meta", {}).get("next_token")
                if not next_token:
                    return Lookup(presence=Presence.ABSENT)
                params["pagination_token"] = next_token
        except PublishError as error:
            return Lookup(presence=Presence.UNKNOWN, reason=f"X answered: {error.message}")
        return Lookup(
            presence=Presence.UNKNOWN,
            reason=f"the account posted more than {LOOKUP_PAGES * 100} times since the attempt",
        )

    def post_url(self, *, account: SocialAccount, external_id: str) -> str:
        return f"{settings.X_WEB_URL}/{account.handle}/status/{external_id}"

    # --- HTTP ---------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        # Made on first use, so each worker process (forked) gets its own pool.
        if self._session is None:
            self._session = requests.Session()
        return self._session

    @staticmethod
    def _token(account: SocialAccount) -> str:
        token = social_account_credentials(account=account).get("access_token")
        if not token:
            raise PublishError(
                kind=ErrorKind.AUTH_EXPIRED,
                message=f"{account} has no X token; reconnect the account.",
            )
        return token

    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str,
        account: SocialAccount,
        endpoint: str = "post",
        **kwargs,
    ) -> dict:
        writes = method != "GET"
        try:
            response = self.session.request(
                method,
                f"{settings.X_API_BASE_URL}{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=(settings.X_CONNECT_TIMEOUT, settings.X_READ_TIMEOUT),
                **kwargs,
            )
        except requests.RequestException as exc:
            raise _transport_error(exc, writes=writes) from None
        rate_limits_record(
            network=self.network,
            readings=_readings(response, account_id=account.pk, endpoint=endpoint),
            now=timezone.now(),
        )
        if response.status_code < 300:
            return response.json()
        raise _answer_error(response, writes=writes)


# --- Classifying X's answers ----------------------------------------------------------


def _transport_error(exc: requests.RequestException, *, writes: bool) -> PublishError:
    never_sent = isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError)
        and exc.args
        and isinstance(exc.args[0], MaxRetryError)
        and isinstance(exc.args[0].reason, NewConnectionError)
    )
    return PublishError(
        kind=ErrorKind.NETWORK,
        message=f"No answer from X ({type(exc).__name__}).",
        maybe_accepted=writes and not never_sent,
    )


def _problem(body: dict) -> str:
    return str(body.get("type", "")).rsplit("/problems/", 1)[-1]


def _answer_error(response: requests.Response, *, writes: bool) -> PublishError:
    status = response.status_code
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


def _readings(response: requests.Response, *, account_id: int, endpoint: str):
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


def _comparable(text: str) -> str:
    """Text as X shows it back: entities unescaped, links stand for any link."""
    return URL_PATTERN.sub("<link>", html.unescape(text)).strip()


def _replies_to(post: dict, reply_to: str | None) -> bool:
    replied = [
        ref["id"] for ref in post.get("referenced_tweets", []) if ref.get("type") == "replied_to"
    ]
    return replied == ([reply_to] if reply_to else [])
