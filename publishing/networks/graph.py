"""Meta's Graph API, shared by the Facebook Pages and Instagram adapters: the connection
pool, the account's token, reading every answer, and the sign-in both networks use.

Both networks are one API (graph.facebook.com/v{N}.0, the version a setting:
META_GRAPH_VERSION) with one error envelope, `{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}`, so this is the only place that reads Meta's
answers. Every one becomes JSON, rate-limit readings (`x-app-usage`,
`x-business-use-case-usage`), or a `PublishError` of one `ErrorKind`
(reference/networks.md, Facebook → Errors, Instagram → Errors):

    190                       auth_expired   the token expired or was revoked: Page tokens
                                             cannot be renewed, so the account waits for
                                             reconnecting (unless it was reconnected
                                             meanwhile: then once more)
    10, 200-299, 3            forbidden      a permission missing, named so staff grant it
    4, 17, 32, 613, 80001-14  rate_limited   retry when the usage header says access returns
      (or HTTP 429)
    9 / 2207042               rate_limited   Instagram's 24-hour publishing quota
    506, 368, sub 1366051     duplicate      the same post again
    9007 / 2207027            server         the container is not ready: nothing was made
    9004 / 2207052            server         Meta could not fetch the file from Kairos: tried again
                                             (Kairos's web may be briefly down), failing in the end
    100                       validation     a parameter refused (sub 33: not found)
    1, 2, 5xx, is_transient   server         the post may exist: reconciled, not retried blindly
    timeout/reset             network        likewise, unless the request never left

`GraphAdapter` is what both adapters do alike (one post per job, delete, numbers post
by post, the sign-in's start). This module is an adapter module like the networks'
own: it imports only `publishing.networks.base` (tests/test_layers.py lets both Meta
adapters import it).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    APP_KEY,
    Account,
    AccountStore,
    AppRegistry,
    ConnectError,
    ConnectOff,
    Credentials,
    CredentialsRefused,
    ErrorKind,
    Lookup,
    MediaFile,
    MediaUploaded,
    MetricsReading,
    NetworkAdapter,
    PartPublished,
    PostMetrics,
    Presence,
    PublishError,
    PublishRequest,
    PublishResult,
    WindowReading,
    account_key,
)

USER_AGENT = "Kairos"
# The day Meta stops answering each Graph API version (reference/networks.md, Facebook →
# Versions). A version lives about two years after the next one comes out, so the newest
# have no day yet.
VERSION_RETIRED_FROM = {
    "v20.0": date(2026, 9, 24),
    "v21.0": date(2027, 1, 21),
    "v22.0": date(2027, 5, 20),
    "v23.0": date(2027, 10, 8),
    "v24.0": date(2028, 2, 18),
    "v25.0": date(2028, 7, 29),
}
# The Graph API's "object does not exist" subcode (code 100).
NOT_FOUND_SUBCODE = 33
# A multi-ID read (`?ids=`) that named an object Meta does not have (any more).
ALIASES_MISSING_CODE = 803
# The most objects one multi-ID read may name [doc: Graph API, multiple ID read requests].
IDS_PER_READ = 50
GRAPH_CODE = "graph_code"
GRAPH_SUBCODE = "graph_subcode"
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
DUPLICATE_CODES = frozenset({506, 368})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
# How long a spent allowance waits when no header says (a rolling hour) [inf].
DEFAULT_THROTTLE_WAIT = timedelta(minutes=15)
# Both headers report a share of a rolling hour: the window's name says how long, as
# every network's windows do (a name is at most 16 characters where it is kept).
APP_USAGE_WINDOW = "1h"
BUC_WINDOW = "1h"
APP_USAGE_HEADER = "x-app-usage"
BUC_HEADER = "x-business-use-case-usage"


def graph_url(path: str = "") -> str:
    return f"{settings.META_GRAPH_URL}/{settings.META_GRAPH_VERSION}{path}"


@dataclass(frozen=True)
class GraphSign:
    """How one Meta network words its sign-in and refusals."""

    label: str
    # The Kairos page that connects it again, for the messages staff read.
    reconnect: str


class GraphClient:
    def __init__(self, sign: GraphSign) -> None:
        self.sign = sign
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
        files: dict[str, tuple[str, bytes, str]] | None = None,
        needs: str = "",
    ) -> Any:
        """The JSON answer to one call with the account's token. `params` go in the query,
        `body` as JSON, or with `files` (name: file name, bytes, type) as multipart form
        fields; `needs` names the permission a refusal asks staff to grant."""
        token = graph_access_token(account, sign=self.sign)
        response = self._send(method, path, token, account, store, params, body, files)
        if response.status >= 300 and _code(response) == 190:
            token = self._token_after_refusal(account=account, store=store, refused=token)
            response = self._send(method, path, token, account, store, params, body, files)
        if response.status < 300:
            return _body(response)
        raise answer_error(response, sign=self.sign, writes=method != "GET", needs=needs)

    def _send(
        self,
        method: str,
        path: str,
        token: str,
        account: Account,
        store: AccountStore,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        url = graph_url(path)
        if params:
            url = f"{url}?{urlencode(params)}"
        sent: dict[str, Any] = {"json": body}
        if files is not None:
            fields = {name: str(value) for name, value in (body or {}).items()}
            sent = {"fields": {**fields, **files}, "encode_multipart": True}
        try:
            # Sent once, whatever becomes of it: a POST sent again by the transport
            # could publish twice, and the Graph API takes no idempotency key.
            response = self.pool.request(
                method,
                url,
                headers={"Authorization": f"Bearer {token}"},
                **sent,
                timeout=urllib3.Timeout(
                    connect=settings.META_CONNECT_TIMEOUT, read=settings.META_READ_TIMEOUT
                ),
                retries=False,
                redirect=False,
            )
        except HTTPError as exc:
            never_sent = isinstance(exc, NewConnectionError | ConnectTimeoutError)
            raise PublishError(
                kind=ErrorKind.NETWORK,
                message=f"No answer from {self.sign.label} ({type(exc).__name__}).",
                maybe_accepted=method != "GET" and not never_sent,
            ) from None
        store.rate_limits_record(usage_readings(response.headers, account_id=account.id))
        return response

    def _token_after_refusal(self, *, account: Account, store: AccountStore, refused: str) -> str:
        """The token to try once more after Meta refused `refused`, or the error that sends
        the account to reconnecting.

        A Page token cannot be renewed by Kairos: it ends when the person changes their
        password, leaves the Page or removes the app. Under the account's row lock
        (AccountStore.credentials_renew) a token other than the refused one was stored
        by a reconnect meanwhile and is worth one try; otherwise the account is marked
        for reconnecting, committed, and its jobs wait for it.
        """

        def renew(current: Account) -> Credentials | None:
            if current.credentials.get("access_token", refused) == refused:
                raise CredentialsRefused(f"{self.sign.label} refused the account's token")
            return None

        try:
            fresh = store.credentials_renew(account=account, renew=renew)
        except CredentialsRefused:
            raise PublishError(
                kind=ErrorKind.AUTH_EXPIRED,
                message=f"{self.sign.label} no longer accepts the sign-in of {account} (it "
                "expired, or the password changed, or Kairos was removed). The post waits: "
                f"reconnect the account ({self.sign.reconnect}) and it goes out.",
                http_status=400,
                details={ACCOUNT_NEEDS_REAUTH: True, GRAPH_CODE: 190},
            ) from None
        return fresh.credentials["access_token"]


def graph_access_token(account: Account, *, sign: GraphSign) -> str:
    """The account's token, or the error that makes its jobs wait for a reconnect."""
    if account.credentials_problem:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED, message=f"{account}: {account.credentials_problem}"
        )
    token = account.credentials.get("access_token")
    expired = account.token_expires_at is not None and account.token_expires_at <= _now()
    if not token or expired:
        raise PublishError(
            kind=ErrorKind.AUTH_EXPIRED,
            message=f"The {sign.label} sign-in of {account} "
            f"{'expired' if token else 'is missing'}. The post waits: reconnect the account "
            f"({sign.reconnect}) and it goes out.",
            details={ACCOUNT_NEEDS_REAUTH: True},
        )
    return token


# --- Classifying the answers ----------------------------------------------------------


def _body(response: urllib3.BaseHTTPResponse) -> Any:
    try:
        return json.loads(response.data or b"null")
    except ValueError:
        return None


def _error_of(response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
    body = _body(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _code(response: urllib3.BaseHTTPResponse) -> int | None:
    return _error_of(response).get("code")


def is_not_found(error: PublishError) -> bool:
    """Whether Meta said the object does not exist (code 100, subcode 33), or that one
    a multi-ID read named does not (#803)."""
    return (
        error.details.get(GRAPH_SUBCODE) == NOT_FOUND_SUBCODE
        or error.details.get(GRAPH_CODE) == ALIASES_MISSING_CODE
    )


def answer_error(
    response: urllib3.BaseHTTPResponse, *, sign: GraphSign, writes: bool, needs: str = ""
) -> PublishError:
    status = response.status
    said = _error_of(response)
    code = said.get("code")
    subcode = said.get("error_subcode")
    detail = said.get("error_user_msg") or said.get("message") or f"HTTP {status}"
    label = sign.label

    def error(kind: ErrorKind, message: str, **extra: Any) -> PublishError:
        return PublishError(
            kind=kind,
            message=message,
            http_status=status,
            request_id=str(said.get("fbtrace_id", "")),
            details={GRAPH_CODE: code, GRAPH_SUBCODE: subcode, **extra.pop("details", {})},
            **extra,
        )

    if code == 190:
        return error(
            ErrorKind.AUTH_EXPIRED,
            f"{label} refused the account's sign-in ({detail}); reconnect the account "
            f"({sign.reconnect}).",
            details={ACCOUNT_NEEDS_REAUTH: True},
        )
    if code in PERMISSION_CODES:
        grant = needs or "the permissions Kairos asks for"
        return error(
            ErrorKind.FORBIDDEN,
            f"{label} refused: the sign-in lacks a permission (“{detail}”). Reconnect the "
            f"account ({sign.reconnect}) and grant Kairos {grant}.",
        )
    # Meta throttles with a 400 and a code; a bare 429 (a proxy on the way) is read alike.
    if code in THROTTLE_CODES or (code == 9 and subcode == 2207042) or status == 429:
        quota = code == 9
        return error(
            ErrorKind.RATE_LIMITED,
            f"{label}'s {'24-hour publishing quota' if quota else 'rate limit'} for the "
            f"account is spent (“{detail}”); waiting for it to return.",
            retry_at=throttled_until(response.headers, quota=quota),
        )
    if code in DUPLICATE_CODES or subcode == 1366051:
        return error(
            ErrorKind.DUPLICATE,
            f"{label} refused the post as a duplicate of one already on the account "
            f"(“{detail}”); edit the text or cancel.",
        )
    if code == 9007:
        return error(ErrorKind.SERVER, f"{label} had not finished preparing the media: {detail}")
    if code == 9004:
        # Nothing was made. Kairos's web may be down for a moment (a restart, its database
        # failing over), so the job is tried again with backoff rather than lost; a
        # lasting cause (the address or the file) fails it after the last try.
        return error(
            ErrorKind.SERVER,
            f"{label} could not download the file from Kairos (“{detail}”). If this "
            "persists, check that KAIROS_PUBLIC_URL is reachable from the internet and the "
            "file is a JPEG image or an MP4/MOV video.",
        )
    if said.get("is_transient") or status >= 500 or code in (1, 2):
        return error(
            ErrorKind.SERVER, f"{label} answered {status} ({detail}).", maybe_accepted=writes
        )
    if code == 100:
        return error(ErrorKind.VALIDATION, f"{label} refused the post: {detail}")
    return error(ErrorKind.UNKNOWN, f"{label} answered {status} ({detail}).")


def throttled_until(headers: urllib3.HTTPHeaderDict, *, quota: bool = False) -> datetime:
    """When a spent allowance returns: the longest `estimated_time_to_regain_access` of the
    business-use-case header (minutes), else a default wait; a day's quota, an hour [inf]."""
    minutes = [entry.get("estimated_time_to_regain_access", 0) for entry in _buc(headers)]
    wait = max(minutes, default=0)
    if wait:
        return _now() + timedelta(minutes=wait)
    return _now() + (timedelta(hours=1) if quota else DEFAULT_THROTTLE_WAIT)


def _buc(headers: urllib3.HTTPHeaderDict) -> Iterator[dict[str, Any]]:
    try:
        usage = json.loads(headers.get(BUC_HEADER, "") or "{}")
    except ValueError:
        return
    if not isinstance(usage, dict):
        return
    for entries in usage.values():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict):
                yield entry


def usage_readings(headers: urllib3.HTTPHeaderDict, *, account_id: int) -> list[WindowReading]:
    """The usage headers as windows of 100 (percent spent): the app's over a rolling hour,
    the account's (Page or Instagram) until the access Meta estimates it regains."""
    readings = []
    now = _now()
    try:
        app = json.loads(headers.get(APP_USAGE_HEADER, "") or "null")
    except ValueError:
        app = None
    if isinstance(app, dict):
        spent = max(
            int(app.get(name, 0) or 0) for name in ("call_count", "total_time", "total_cputime")
        )
        readings.append(
            WindowReading(
                key=APP_KEY,
                endpoint="graph",
                window=APP_USAGE_WINDOW,
                limit=100,
                remaining=max(0, 100 - spent),
                resets_at=now + timedelta(hours=1),
            )
        )
    for entry in _buc(headers):
        spent = max(
            int(entry.get(name, 0) or 0) for name in ("call_count", "total_time", "total_cputime")
        )
        readings.append(
            WindowReading(
                key=account_key(account_id),
                endpoint=str(entry.get("type", "graph")),
                window=BUC_WINDOW,
                limit=100,
                remaining=max(0, 100 - spent),
                resets_at=now
                + timedelta(minutes=int(entry.get("estimated_time_to_regain_access", 0) or 0)),
            )
        )
    return readings


def media_address(media: MediaFile, sign: GraphSign) -> str:
    """Where Meta downloads the file: the signed Kairos address the caller gave."""
    if not media.url:
        raise PublishError(
            kind=ErrorKind.VALIDATION,
            message=f"{sign.label} downloads {media} from Kairos, but it has no public address. "
            "Set KAIROS_PUBLIC_URL to Kairos's address on the internet, then publish again.",
        )
    return media.url


# Meta's clocks and ours may differ a little: a look-up reads from a little earlier.
CLOCK_SKEW = timedelta(minutes=5)


def recent_lookup(
    read: Callable[[datetime], list[dict[str, Any]]],
    *,
    text: str,
    since: datetime,
    limit: int,
    text_field: str,
    time_field: str,
    label: str,
) -> Lookup:
    """Whether the account's posts made since `since` (newest first, at most `limit`, as
    `read(start)` lists them) hold one with `text`. FOUND and ABSENT are certain; a list
    that is full may hide older posts, so finding nothing in it is UNKNOWN."""
    start = since - CLOCK_SKEW
    try:
        posts = read(start)
    except PublishError as error:
        return Lookup(presence=Presence.UNKNOWN, reason=f"{label} answered: {error.message}")
    wanted = _comparable(text)
    for post in posts:
        made = graph_time(post.get(time_field, ""))
        if made is not None and made >= start and _comparable(post.get(text_field, "")) == wanted:
            return Lookup(presence=Presence.FOUND, external_id=str(post["id"]))
    oldest = graph_time(posts[-1].get(time_field, "")) if posts else None
    if len(posts) < limit or (oldest is not None and oldest < start):
        return Lookup(presence=Presence.ABSENT)
    return Lookup(
        presence=Presence.UNKNOWN,
        reason=f"the account posted more than {limit} times since the attempt",
    )


def graph_time(value: str) -> datetime | None:
    """An instant as the Graph API writes it: 2026-12-03T13:34:52+0000."""
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except (TypeError, ValueError):
        return None


def _comparable(text: str) -> str:
    return " ".join(str(text).split())


def _now() -> datetime:
    return datetime.now(UTC)


# --- What both Meta adapters do alike ----------------------------------------------------


class GraphAdapter(NetworkAdapter):
    """A network on the Graph API (Facebook Pages, Instagram): one post per job, deleted by
    id, its numbers read post by post, accounts connected by Facebook Login with a choice
    of the person's Pages (`connect_choices` is each network's own)."""

    has_metrics = True
    has_profile = True
    connects = True
    offers_choices = True
    # A Page token made from a long-lived user token does not expire (it ends when the
    # person changes their password, leaves the Page or removes Kairos): refresh_before
    # stays None, and a refused token sends the account to reconnecting.
    sign: GraphSign
    scopes: tuple[str, ...]
    # The name of the setting holding the callback registered with Meta.
    redirect_setting: str
    # The permission that deleting a post needs, for a refusal's message.
    delete_needs: str

    def __init__(self) -> None:
        self.client = GraphClient(self.sign)

    def publish(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        if request.published_part_ids:
            external_id = request.published_part_ids[0]
        else:
            external_id = self._post(request, store=store, on_media_uploaded=on_media_uploaded)
            on_part_published(0, external_id)
        return PublishResult(
            external_id=external_id,
            url=self._published_url(account=request.account, store=store, external_id=external_id),
            part_ids=(external_id,),
        )

    def delete(self, *, account: Account, external_id: str, store: AccountStore) -> None:
        try:
            self.client.call(
                "DELETE", f"/{external_id}", account=account, store=store, needs=self.delete_needs
            )
        except PublishError as error:
            if not is_not_found(error):
                raise

    def connect_start(
        self, *, state_for: Callable[[str], str], server: str = "", apps: AppRegistry | None = None
    ) -> str:
        # No PKCE verifier to keep: Meta's code exchange is authenticated by the app secret.
        return graph_dialog_url(
            state=state_for(""), scopes=self.scopes, redirect_uri=self._redirect_uri()
        )

    @abstractmethod
    def _post(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_media_uploaded: MediaUploaded | None,
    ) -> str:
        """Make the post on the network; its id."""

    def _published_url(self, *, account: Account, store: AccountStore, external_id: str) -> str:
        return self.post_url(account=account, external_id=external_id)

    def _redirect_uri(self) -> str:
        return getattr(settings, self.redirect_setting)

    def _sign_in(self, code: str) -> UserSignIn:
        return graph_sign_in(code=code, redirect_uri=self._redirect_uri(), label=self.label)

    def _in_batches(
        self,
        external_ids: Sequence[str],
        read_many: Callable[[list[str]], dict[str, PostMetrics]],
    ) -> MetricsReading:
        """The posts' numbers, `IDS_PER_READ` posts a call as `read_many` reads them (one
        multi-ID read). Meta fails the whole read when one post is gone, so such a batch
        is read again post by post, which tells which posts are gone."""
        metrics: dict[str, PostMetrics] = {}
        gone = set()
        for start in range(0, len(external_ids), IDS_PER_READ):
            batch = list(external_ids[start : start + IDS_PER_READ])
            try:
                metrics.update(read_many(batch))
                continue
            except PublishError as error:
                if not is_not_found(error):
                    raise
            for external_id in batch:
                try:
                    metrics.update(read_many([external_id]))
                except PublishError as error:
                    if not is_not_found(error):
                        raise
                    gone.add(external_id)
        return MetricsReading(metrics=metrics, gone=frozenset(gone))


# --- Signing in (Facebook Login, for Pages and the Instagram accounts linked to them) ------


def graph_dialog_url(*, state: str, scopes: tuple[str, ...], redirect_uri: str) -> str:
    """Meta's page where the person signs in and allows Kairos."""
    if not settings.META_APP_ID:
        raise ConnectOff(
            "Connecting Facebook and Instagram is off: set META_APP_ID and META_APP_SECRET "
            "(the app registered on developers.facebook.com).",
            setting="META_APP_ID",
        )
    query = {
        "client_id": settings.META_APP_ID,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": ",".join(scopes),
        "response_type": "code",
    }
    return (
        f"{settings.META_DIALOG_URL}/{settings.META_GRAPH_VERSION}/dialog/oauth?{urlencode(query)}"
    )


@dataclass(frozen=True)
class UserSignIn:
    """A person's long-lived token (about 60 days), as the code exchange gave it."""

    token: str = ""
    expires_at: datetime | None = None


def graph_sign_in(*, code: str, redirect_uri: str, label: str) -> UserSignIn:
    """Trade the dialog's code for a short-lived user token, then that for a long-lived one."""
    app = {"client_id": settings.META_APP_ID, "client_secret": settings.META_APP_SECRET}
    short = graph_ask(
        "/oauth/access_token",
        label=label,
        doing="finish the sign-in",
        params={**app, "redirect_uri": redirect_uri, "code": code},
    )
    long = graph_ask(
        "/oauth/access_token",
        label=label,
        doing="give a long-lived sign-in",
        params={
            **app,
            "grant_type": "fb_exchange_token",
            "fb_exchange_token": short["access_token"],
        },
    )
    expires_in = long.get("expires_in")
    return UserSignIn(
        token=long["access_token"],
        expires_at=_now() + timedelta(seconds=int(expires_in)) if expires_in else None,
    )


def graph_pages(sign_in: UserSignIn, *, label: str, fields: str) -> list[dict[str, Any]]:
    """Every Page the person manages, with its Page token, following `paging.next`."""
    pages: list[dict[str, Any]] = []
    answer = graph_ask(
        "/me/accounts",
        label=label,
        doing="list your Pages",
        params={"fields": fields, "limit": 100, "access_token": sign_in.token},
    )
    while True:
        pages.extend(answer.get("data", []))
        following = (answer.get("paging") or {}).get("next")
        if not following:
            return pages
        answer = graph_ask(following, label=label, doing="list your Pages")


def graph_ask(
    path: str,
    *,
    label: str,
    doing: str,
    params: dict[str, Any] | None = None,
    check: Callable[[Any], bool] = lambda body: isinstance(body, dict),
) -> Any:
    """One call of the sign-in (requests, as for the other networks' sign-ins: one person's
    click, not a hot path); `path` may be an absolute URL Meta gave (`paging.next`)."""
    url = path if path.startswith("http") else graph_url(path)
    try:
        response = requests.get(
            url,
            params=params,
            timeout=(settings.META_CONNECT_TIMEOUT, settings.META_READ_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise ConnectError(
            f"{label} did not answer when asked to {doing} ({type(exc).__name__}); connect "
            "again in a moment."
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not check(body):
        said = (
            ((body or {}).get("error") or {}).get("message", "") if isinstance(body, dict) else ""
        )
        raise ConnectError(
            f"{label} refused to {doing} (it answered {response.status_code}"
            f"{': ' + said if said else ''}). Connect the account again."
        )
    return body
