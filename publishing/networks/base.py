"""The one interface every network adapter implements, and the words they share.

Adapters alone speak to networks. They turn every answer into either a
`PublishResult` or a `PublishError` whose `ErrorKind` decides what happens next;
nothing outside an adapter looks at HTTP status codes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from accounts.models import SocialAccount
from posts.models import MediaAsset


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


@dataclass(frozen=True)
class PartContent:
    text: str
    media: tuple[MediaAsset, ...] = ()


@dataclass(frozen=True)
class MediaUpload:
    """A file already on the network for this job, usable in a post until `expires_at`."""

    media_id: str
    expires_at: datetime


@dataclass(frozen=True)
class PublishRequest:
    """Everything an adapter needs to publish one job, and nothing it may change."""

    account: SocialAccount
    parts: tuple[PartContent, ...]
    # Stable for the job across attempts: a network that honours idempotency keys
    # answers a repeat with the post it already made.
    idempotency_key: str
    # Thread segments already on the network from earlier attempts, in order.
    published_part_ids: tuple[str, ...] = ()
    # Media uploaded by earlier attempts, by MediaAsset id, so a retry reuses them.
    media_uploads: Mapping[int, MediaUpload] = field(default_factory=dict)


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
# (MediaAsset id, the network's media id, when the network forgets it)
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


class NetworkAdapter(ABC):
    network: str
    # Whether publishing waits on a remote network. A worker then sends the jobs of a
    # batch side by side, on a pool of KAIROS_PUBLISH_THREADS threads; an adapter that
    # writes into Kairos's own database (the sandbox) publishes in the worker's thread.
    remote: bool = True

    @abstractmethod
    def validate(self, *, account: SocialAccount, parts: tuple[PartContent, ...]) -> list[str]:
        """What is wrong with this content for this account, as sentences; empty when fine."""

    @abstractmethod
    def publish(
        self,
        request: PublishRequest,
        *,
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
    def delete(self, *, account: SocialAccount, external_id: str) -> None:
        """Take one post off the network. A post that is already gone counts as deleted.

        Raises `PublishError` when the network refuses or cannot be reached.
        """

    @abstractmethod
    def find_part(self, request: PublishRequest, *, index: int, since: datetime) -> Lookup:
        """Whether part `index` of the request is on the network, posted at `since` or later.

        Asked when an attempt was interrupted after its request may have been
        accepted. FOUND and ABSENT must be certain; anything less is UNKNOWN, and
        Kairos asks again later or leaves the decision to staff.
        """

    @abstractmethod
    def post_url(self, *, account: SocialAccount, external_id: str) -> str:
        """The address where a person can see a published post."""
