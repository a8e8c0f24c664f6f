"""The one interface every network adapter implements, and the plain data it speaks in.

An adapter knows its network and nothing of Kairos's database: it imports no
model and no service. It takes plain data in (an `Account` snapshot with its
credentials, the parts to post with their media files, the ids of parts already
posted, an idempotency key) and gives plain data out (a `PublishResult`, a
`Lookup`, `MetricsReading`, a `Profile`), or raises a `PublishError` whose
`ErrorKind` decides what happens next; nothing outside an adapter looks at HTTP
status codes.

What must be saved while an adapter works goes through the `AccountStore` its
caller hands it (publishing/stores.py is the database's): rate-limit readings,
credentials renewed under the account's row lock, a billing problem, and, for the
sandbox, the posts themselves. A thread part's id and an uploaded file's id go to
the callbacks of `publish`, as soon as each exists.

A new network is one folder under `publishing/networks/`, one line in the
registry (`publishing/networks/__init__.py`) and a fake of it for the tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import IO, Any, Protocol


class ErrorKind(StrEnum):
    """The closed set of ways a publish can fail. The kind alone decides retry or stop."""

    RATE_LIMITED = "rate_limited"
    NETWORK = "network"
    SERVER = "server"
    AUTH_EXPIRED = "auth_expired"
    VALIDATION = "validation"
    DUPLICATE = "duplicate"
    FORBIDDEN = "forbidden"
    BILLING = "billing"
    UNKNOWN = "unknown"

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE


_RETRYABLE = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.NETWORK, ErrorKind.SERVER})

# A detail of an AUTH_EXPIRED error: the account now waits to be reconnected, so the
# job waits with it instead of failing (publishing.execution).
ACCOUNT_NEEDS_REAUTH = "account_needs_reauth"
# A detail of an error nothing was made by that only an operator can mend (a setting of
# this Kairos the network no longer takes, like a retired API version): the job waits
# and is tried again every so often, within its missed-post window, instead of failing.
WAITS_FOR_OPERATOR = "waits_for_operator"
# How often such a job asks the network again.
OPERATOR_WAIT = timedelta(minutes=15)


# --- What goes in ---------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A social account as an adapter sees it: who it is on the network, and its keys.

    `credentials` are decrypted; they never reach a repr, a log or a message.
    `credentials_problem` says why they could not be read, when they could not.
    """

    id: int
    network: str
    handle: str
    external_id: str = ""
    # How Kairos names the account to people: "@handle (X)".
    name: str = ""
    subscription_type: str = ""
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    credentials_problem: str = ""
    token_expires_at: datetime | None = None
    needs_reauth: bool = False

    def __str__(self) -> str:
        return self.name or f"@{self.handle}"

    def access_expires_within(self, margin: timedelta) -> bool:
        """Whether the access lapses within `margin` (never, without a known expiry)."""
        expires_at = self.token_expires_at
        return expires_at is not None and expires_at - datetime.now(UTC) <= margin


class MediaKind(StrEnum):
    IMAGE = "image"
    GIF = "gif"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return "GIF" if self is MediaKind.GIF else self.value.capitalize()


@dataclass(frozen=True)
class MediaFile:
    """One file attached to a part: what it is, and how to read its bytes."""

    asset_id: int
    kind: MediaKind
    mime_type: str
    size_bytes: int
    name: str = ""
    alt_text: str = ""
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    # Where a network that fetches files itself (Instagram, Facebook) may download it: a
    # signed Kairos address that works for a short while (posts.media_urls).
    url: str = field(default="", repr=False, compare=False)
    # Opens the file for binary reading, as a context manager.
    open: Callable[[], AbstractContextManager[IO[bytes]]] | None = field(
        default=None, repr=False, compare=False
    )

    def __str__(self) -> str:
        return self.name or f"file {self.asset_id}"


@dataclass(frozen=True)
class PartContent:
    text: str
    media: tuple[MediaFile, ...] = ()


@dataclass(frozen=True)
class MediaUpload:
    """A file already on the network for this job, usable in a post until `expires_at`."""

    media_id: str
    expires_at: datetime


@dataclass(frozen=True)
class PublishRequest:
    """Everything an adapter needs to publish one job, and nothing it may change."""

    account: Account
    parts: tuple[PartContent, ...]
    # Stable for the job across attempts: a network that honours idempotency keys
    # answers a repeat with the post it already made.
    idempotency_key: str
    # Thread segments already on the network from earlier attempts, in order.
    published_part_ids: tuple[str, ...] = ()
    # Media uploaded by earlier attempts, by MediaFile.asset_id, so a retry reuses them.
    media_uploads: Mapping[int, MediaUpload] = field(default_factory=dict)


# --- What comes out -------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    external_id: str
    url: str
    part_ids: tuple[str, ...] = ()


@dataclass
class PublishError(Exception):
    """A publish that did not succeed, already classified by the adapter.

    `maybe_accepted` is true when the request may have reached the network and been
    acted on (a timeout after sending, a 5xx, a dropped connection): retrying blindly
    could post twice, so such a job is reconciled rather than retried.
    """

    kind: ErrorKind
    message: str
    http_status: int | None = None
    retry_at: datetime | None = None
    request_id: str = ""
    maybe_accepted: bool = False
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


PartPublished = Callable[[int, str], None]
# (MediaFile.asset_id, the network's media id, when the network forgets it)
MediaUploaded = Callable[[int, str, datetime], None]


@dataclass(frozen=True)
class PostMetrics:
    """A post's numbers as the network reported them; None where it did not say."""

    impressions: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    # Private to the account, and only while the network still gives them.
    link_clicks: int | None = None
    profile_clicks: int | None = None
    engagements: int | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsReading:
    """One look at several posts of an account: their numbers, and those no longer there."""

    metrics: Mapping[str, PostMetrics] = field(default_factory=dict)
    gone: frozenset[str] = frozenset()


class Presence(StrEnum):
    """What a look-up on the network found out about a post we may have made."""

    FOUND = "found"
    ABSENT = "absent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Lookup:
    presence: Presence
    external_id: str = ""
    # Why the network could not answer, for staff when it never can.
    reason: str = ""


@dataclass(frozen=True)
class Profile:
    """What the network says about an account: kept as the account's cached profile."""

    external_id: str
    handle: str
    display_name: str = ""
    avatar_url: str = ""
    followers_count: int | None = None
    subscription_type: str = ""


@dataclass(frozen=True)
class Credentials:
    """A sign-in to keep for an account, and when its access stops working."""

    values: Mapping[str, str] = field(repr=False)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Connection:
    """What a finished connect flow gives: the account's sign-in and who it is."""

    credentials: Credentials
    profile: Profile


@dataclass(frozen=True)
class ConnectField:
    """One field a person fills in to connect an account without a sign-in redirect."""

    name: str
    label: str
    help_text: str = ""
    # A password or key: typed blind, never shown again.
    secret: bool = False
    initial: str = ""


@dataclass(frozen=True)
class AppKeys:
    """Kairos's own app on one server of a network where every server keeps its own apps
    (a Mastodon instance): registered once per server, used for every sign-in there."""

    client_id: str
    client_secret: str = field(repr=False)


class AppRegistry(Protocol):
    """Where the connect flow keeps Kairos's app keys per server (publishing/stores.py)."""

    def app_keys(self, *, server: str, register: Callable[[], AppKeys]) -> AppKeys:
        """The keys kept for `server`; the first time, those `register()` gets, kept."""


class ConnectError(Exception):
    """Connecting an account did not work; the message says why and what to do."""


class ConnectOff(ConnectError):
    """Connecting this network is switched off by configuration: `setting` names what an
    operator sets to turn it on (the message says the rest)."""

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class CredentialsRefused(Exception):
    """The network will not renew the account's sign-in: only reconnecting helps."""


# --- Rate limits ----------------------------------------------------------------------

APP_KEY = "app"


def account_key(account_id: int) -> str:
    return f"account:{account_id}"


@dataclass(frozen=True)
class WindowReading:
    """One rate-limit window as a response's headers described it."""

    key: str  # account_key(id) or APP_KEY
    endpoint: str
    window: str
    limit: int
    remaining: int
    resets_at: datetime


# --- What the caller provides ---------------------------------------------------------


class AccountStore(Protocol):
    """Where an adapter saves what must outlive the call, for one account."""

    def rate_limits_record(self, readings: Iterable[WindowReading]) -> None:
        """Keep what a response said of the network's rate-limit windows."""

    def credentials_renew(
        self, *, account: Account, renew: Callable[[Account], Credentials | None]
    ) -> Account:
        """Renew the account's credentials at most once however many callers ask.

        Holding the account's row lock, with the account read again, calls
        `renew(current)`: new credentials are saved at once (committed, whatever
        the caller does next), None keeps what is stored. `CredentialsRefused` from
        `renew` marks the account for reconnecting, committed, and is raised again.
        Returns the account as it is after.
        """

    def billing_problem(self, *, account: Account, message: str) -> None:
        """Note for staff that the network refused the account for billing."""

    @property
    def sandbox_posts(self) -> Any:
        """The sandbox network's posts (publishing.networks.sandbox.SandboxPosts)."""


class NetworkAdapter(ABC):
    network: str
    label: str
    # Whether publishing waits on a remote network. A worker then sends the jobs of a
    # batch side by side, on a pool of KAIROS_PUBLISH_THREADS threads; an adapter that
    # writes into Kairos's own database (the sandbox) publishes in the worker's thread.
    remote: bool = True
    # Whether the network gives a post's numbers (metrics_fetch) and a profile.
    has_metrics: bool = False
    has_profile: bool = False
    # Whether those numbers are made up (the sandbox's, for demos): analytics keeps them
    # apart from real networks' numbers and labels them simulated.
    metrics_simulated: bool = False
    # Whether accounts are connected through the network's sign-in (connect_start).
    connects: bool = False
    # The fields of a form that connects an account instead (connect_with); empty for a
    # network connected by its sign-in, or not at all.
    connect_fields: tuple[ConnectField, ...] = ()
    # Whether staff first name the server the account lives on (a Mastodon instance):
    # connect_start then also takes `server`, and both connect steps take `apps`.
    asks_server: bool = False
    # Whether one sign-in brings several accounts to choose from (the Facebook Pages a
    # person manages): `connect_choices` then answers instead of `connect_finish`.
    offers_choices: bool = False
    # How long before its access expires an account's sign-in is renewed; None for a
    # network whose sign-in does not expire.
    refresh_before: timedelta | None = None
    # A network that forbids the same words from several accounts at once names how
    # near in time counts as "at once" (publishing/crosspost.py applies it).
    identical_text_window: timedelta | None = None

    @abstractmethod
    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        """What the network would refuse in this content for this account, as sentences
        saying what to change; empty when fine. Pure: no call, no store."""

    @abstractmethod
    def publish(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        """Publish the parts not yet in `request.published_part_ids`, in order.

        Calls `on_part_published(index, external_id)` after each segment is on the
        network, before sending the next, so a later attempt resumes a thread, and
        `on_media_uploaded(asset_id, media_id, expires_at)` after each file is
        uploaded, so a later attempt reuses it. Raises `PublishError` for every failure.
        """

    @abstractmethod
    def delete(self, *, account: Account, external_id: str, store: AccountStore) -> None:
        """Take one post off the network. A post that is already gone counts as deleted.

        Raises `PublishError` when the network refuses or cannot be reached.
        """

    @abstractmethod
    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        """Whether part `index` of the request is on the network, posted at `since` or later.

        Asked when an attempt was interrupted after its request may have been
        accepted. FOUND and ABSENT must be certain; anything less is UNKNOWN, and
        Kairos asks again later or leaves the decision to staff.
        """

    @abstractmethod
    def post_url(self, *, account: Account, external_id: str) -> str:
        """The address where a person can see a published post."""

    def text_length(self, *, account: Account, text: str) -> int:
        """How long the network counts `text`: the count `validate` holds against
        `text_limit`, so the composer's counter and the worker never disagree."""
        return len(text)

    def text_limit(self, *, account: Account) -> int | None:
        """The most `text_length` a part may have on this account; None when unknown."""
        return None

    def comparable_texts(self, parts: tuple[PartContent, ...]) -> frozenset[str]:
        """The texts of `parts` as the network compares them for sameness."""
        return frozenset(part.text for part in parts if part.text.strip())

    def credentials_fresh(self, *, account: Account, store: AccountStore) -> None:
        """Renew the account's credentials if they expire within `refresh_before`.

        Nothing to do for a network whose sign-in does not expire. Raises `PublishError`.
        """
        return None

    def sign_in_renewable(self, account: Account) -> bool:
        """Whether Kairos renews the account's sign-in before it lapses; when not, staff are
        told in time when to reconnect it, and its posts wait once it has lapsed."""
        return self.refresh_before is not None

    def metrics_fetch(
        self, *, account: Account, external_ids: list[str], store: AccountStore
    ) -> MetricsReading:
        """The numbers of the account's posts `external_ids`, read as many posts a call as
        the network allows (README "Networks"); those the network no longer has are
        `gone`. Raises `PublishError`."""
        raise NotImplementedError(f"{self.label} gives no metrics (has_metrics is false)")

    def profile_fetch(self, *, account: Account, store: AccountStore) -> Profile:
        """The account's profile as the network has it now. Raises `PublishError`."""
        raise NotImplementedError(f"{self.label} gives no profile (has_profile is false)")

    def connect_start(
        self, *, state_for: Callable[[str], str], server: str = "", apps: AppRegistry | None = None
    ) -> str:
        """The network's address where a person signs in and allows Kairos.

        `state_for(verifier)` remembers the flow's secret (a PKCE verifier, and what
        else the adapter needs again at the end) and returns the `state` naming it.
        With `asks_server`: `server` is where the account lives, `apps` Kairos's keys
        there. Raises `ConnectError`.
        """
        raise NotImplementedError(f"{self.label} accounts are not connected by signing in")

    def connect_finish(
        self, *, code: str, verifier: str, apps: AppRegistry | None = None
    ) -> Connection:
        """Trade the code the network sent back for the account's sign-in and profile.

        Raises `ConnectError`.
        """
        raise NotImplementedError(f"{self.label} accounts are not connected by signing in")

    def connect_choices(self, *, code: str, verifier: str) -> tuple[Connection, ...]:
        """With `offers_choices`: every account the sign-in may publish to, for the person
        to choose from. Raises `ConnectError` (also when there is none)."""
        raise NotImplementedError(f"{self.label} sign-ins do not offer accounts to choose")

    def connect_with(self, *, values: Mapping[str, str]) -> Connection:
        """Connect an account from the values a person gave for `connect_fields`.

        Raises `ConnectError`.
        """
        raise NotImplementedError(f"{self.label} accounts are not connected from a form")
