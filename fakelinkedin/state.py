"""Everything the fake LinkedIn remembers, behind one lock.

Locking rule, as in fakex: every write, and every read that must agree with other
state, happens while holding `World.lock`; slow work (JSON, injected latency) is done
before taking it.

Facts are from reference/networks.md (LinkedIn); `[inf]` marks what the fake had to
choose where the documentation is silent.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from fakex.faults import FaultPlan
from fakex.state import counts_by_text

CLIENT_ID = "78kairosfake"
CLIENT_SECRET = "fakelinkedin-client-secret"
# Access tokens live 60 days; refresh tokens (partners only) 365 days from first sign-in.
ACCESS_TOKEN_SECONDS = 5_184_000
REFRESH_TOKEN_SECONDS = 31_536_000
# Roles that may post as an organization (organizationalEntityAcls).
POSTING_ROLES = frozenset(
    {"ADMINISTRATOR", "CONTENT_ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER"}
)
# A post id's lowest bits: a sequence; the bits above them: when it was made.
POST_SEQUENCE_BITS = 22
POST_SEQUENCE_SPAN = 1 << POST_SEQUENCE_BITS
# Each monthly version stays active at least 12 months after its release.
VERSION_LIFETIME_MONTHS = 12


@dataclass
class Member:
    id: str  # the OpenID `sub`; the author URN is urn:li:person:{id}
    name: str
    picture: str = ""

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.id}"


@dataclass
class Organization:
    id: str
    name: str
    vanity_name: str
    followers: int = 0

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


@dataclass(frozen=True)
class Role:
    member_id: str
    organization_id: str
    role: str = "ADMINISTRATOR"
    state: str = "APPROVED"


@dataclass
class Token:
    member_id: str
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class RefreshToken:
    member_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass(frozen=True)
class AuthorizationCode:
    member_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class Image:
    urn: str
    owner: str  # author URN
    upload_token: str
    upload_expires_at: float
    size: int = 0
    uploaded_at: float | None = None

    def status_at(self, now: float, processing_seconds: float) -> str:
        if self.uploaded_at is None:
            return "WAITING_UPLOAD"
        return "AVAILABLE" if now >= self.uploaded_at + processing_seconds else "PROCESSING"


@dataclass
class VideoPart:
    first_byte: int
    last_byte: int
    etag: str | None = None

    @property
    def size(self) -> int:
        return self.last_byte - self.first_byte + 1


@dataclass
class Video:
    """A video of the Videos API: initialized with its size and cut into parts, each PUT
    to its own address (answered with an ETag), finalized with the ETags in order, then
    PROCESSING until AVAILABLE."""

    urn: str
    owner: str  # author URN
    # Names the parts' addresses (/dms-uploads/video/{secret}/{index}).
    secret: str
    # What finalizeUpload must repeat: empty for a video of one part.
    upload_token: str
    upload_expires_at: float
    file_size: int
    parts: list[VideoPart] = field(default_factory=list)
    finalized_at: float | None = None
    failed: bool = False

    def status_at(self, now: float, processing_seconds: float) -> str:
        if self.failed:
            return "PROCESSING_FAILED"
        if self.finalized_at is None:
            return "WAITING_UPLOAD"
        return "AVAILABLE" if now >= self.finalized_at + processing_seconds else "PROCESSING"


@dataclass
class Post:
    urn: str
    author: str
    # The commentary as stored: what was sent, cut at the first unescaped reserved character.
    commentary: str
    created_at: float
    sent_commentary: str = ""
    content: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    likes: int = 0
    comments: int = 0
    shares: int = 0
    impressions: int = 0
    clicks: int = 0
    members_reached: int = 0


@dataclass
class Settings:
    # Whether the app is a partner whose sign-ins come with refresh tokens (MDP).
    refresh_tokens: bool = False
    # The same commentary by the same author within this many seconds is DUPLICATE_POST [inf].
    duplicate_window_seconds: int = 86_400
    # Seconds an uploaded image stays PROCESSING [inf].
    image_processing_seconds: float = 0.0
    # Posts a member may make per day (reset at midnight UTC) before 429 [i].
    daily_post_limit: int = 150
    # Seconds a finalized video stays PROCESSING [inf].
    video_processing_seconds: float = 0.0
    # The size of each part of a video upload: LinkedIn cuts files into 4 MiB parts [i].
    video_part_bytes: int = 4 * 1024 * 1024
    # The month (YYYYMM) whose versions LinkedIn has: a version is active from its month
    # to 12 months after. Empty: the month of the fake's clock, as LinkedIn. Tests and
    # runs that are not about a version's age set it to the version Kairos sends, so
    # that they keep passing as the calendar moves on.
    versions_as_of: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Stats:
    # (author URN, commentary as sent) -> how many posts were made.
    posts_created: Counter[tuple[str, str]] = field(default_factory=Counter)
    duplicate_refusals: Counter[tuple[str, str]] = field(default_factory=Counter)
    truncated_posts: int = 0
    images_uploaded: int = 0
    videos_uploaded: int = 0
    video_parts_uploaded: int = 0
    token_exchanges: Counter[str] = field(default_factory=Counter)
    requests: dict[str, Counter[str]] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)

    def count_request(self, endpoint: str, outcome: str) -> None:
        self.requests.setdefault(endpoint, Counter())[outcome] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "posts_created_total": sum(self.posts_created.values()),
            "posts_created": counts_by_text(self.posts_created, "author"),
            "duplicate_refusals": counts_by_text(self.duplicate_refusals, "author"),
            "truncated_posts": self.truncated_posts,
            "images_uploaded": self.images_uploaded,
            "videos_uploaded": self.videos_uploaded,
            "video_parts_uploaded": self.video_parts_uploaded,
            "token_exchanges": dict(self.token_exchanges),
            "requests": {endpoint: dict(counts) for endpoint, counts in self.requests.items()},
            "faults": dict(self.faults),
        }


class World:
    """The fake LinkedIn: members, organizations and roles, tokens, images, posts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.clock_offset = 0.0
        self.settings = Settings()
        self.faults = FaultPlan()
        self.stats = Stats()
        self.members: dict[str, Member] = {}
        self.organizations: dict[str, Organization] = {}
        self.roles: list[Role] = []
        self.logged_in_member_id: str | None = None
        # Scopes the member grants on the consent page; None grants all that were asked.
        self.granted_scopes: tuple[str, ...] | None = None
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.images: dict[str, Image] = {}
        self.videos: dict[str, Video] = {}
        self.posts: dict[str, Post] = {}
        self._last_id = 7_140_000_000_000_000_000
        self._post_sequence = 0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_id(self) -> str:
        self._last_id += 1
        return str(self._last_id)

    def next_post_id(self) -> str:
        """A post's id as LinkedIn makes them: the milliseconds since 1970 of its making in
        the bits above the lowest 22 (urn:li:share:7141138937766391808 was made on
        2023-12-14), a sequence below them [i]."""
        self._post_sequence = (self._post_sequence + 1) % POST_SEQUENCE_SPAN
        return str((int(self.now() * 1000) << POST_SEQUENCE_BITS) | self._post_sequence)

    def issue_token(self, *, member_id: str, scopes: tuple[str, ...]) -> tuple[str, Token]:
        value = "AQV" + secrets.token_urlsafe(40)
        token = self.tokens[value] = Token(member_id, scopes, self.now() + ACCESS_TOKEN_SECONDS)
        return value, token

    def issue_refresh_token(
        self, *, member_id: str, scopes: tuple[str, ...], expires_at: float | None = None
    ) -> tuple[str, RefreshToken]:
        value = "AQX" + secrets.token_urlsafe(40)
        lapse = self.now() + REFRESH_TOKEN_SECONDS if expires_at is None else expires_at
        refresh = self.refresh_tokens[value] = RefreshToken(member_id, scopes, lapse)
        return value, refresh

    def author_urns(self, member_id: str) -> set[str]:
        """Who the member may post as: themselves and the organizations they may post for."""
        return {f"urn:li:person:{member_id}"} | {
            f"urn:li:organization:{role.organization_id}"
            for role in self.roles
            if role.member_id == member_id
            and role.state == "APPROVED"
            and role.role in POSTING_ROLES
        }

    def posts_of(self, author: str) -> list[Post]:
        """The author's live posts, newest first."""
        return sorted(
            (post for post in self.posts.values() if post.author == author and not post.deleted),
            key=lambda post: (post.created_at, post.urn),
            reverse=True,
        )

    def posts_today(self, author: str) -> int:
        midnight = datetime.fromtimestamp(self.now(), UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return sum(
            1
            for post in self.posts.values()
            if post.author == author and post.created_at >= midnight.timestamp()
        )

    def version_active(self, version: str) -> bool:
        """Whether a monthly `LinkedIn-Version` (YYYYMM) is released and not yet sunset,
        in the month `settings.versions_as_of` (by default, the clock's)."""
        if len(version) != 6 or not version.isdigit():
            return False
        as_of = self.settings.versions_as_of
        if as_of:
            year, month = int(as_of[:4]), int(as_of[4:6])
        else:
            today = datetime.fromtimestamp(self.now(), UTC)
            year, month = today.year, today.month
        age = (year * 12 + month) - (int(version[:4]) * 12 + int(version[4:]))
        return 0 <= age <= VERSION_LIFETIME_MONTHS
