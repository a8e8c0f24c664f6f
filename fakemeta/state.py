"""Everything the fake Graph API remembers, behind one lock.

Locking rule, as in fakex: every write, and every read that must agree with other
state, happens while holding `World.lock`; slow work (fetching a media URL, JSON,
injected latency) is done before taking it.

Facts are from reference/networks.md (Facebook, Instagram); `[inf]` marks what the
fake had to choose where the documentation is silent.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fakex.faults import FaultPlan
from fakex.state import counts_by_text

APP_ID = "1234567890"
APP_SECRET = "fakemeta-app-secret"
SHORT_TOKEN_SECONDS = 3600
# What GET /oauth/access_token?grant_type=fb_exchange_token answers: about 60 days.
LONG_TOKEN_SECONDS = 5_183_944
TokenKind = Literal["user", "page"]
ContainerStatus = Literal["IN_PROGRESS", "FINISHED", "ERROR", "EXPIRED", "PUBLISHED"]
# A container not published within 24 hours expires.
CONTAINER_LIFETIME = 86_400


@dataclass
class User:
    id: str
    name: str


@dataclass
class Page:
    id: str
    name: str
    user_id: str
    # The Instagram professional account linked to the Page, if any.
    instagram_id: str | None = None


@dataclass
class InstagramUser:
    id: str
    username: str
    name: str
    page_id: str
    followers_count: int = 0
    profile_picture_url: str = ""


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    user_id: str
    scopes: tuple[str, ...]
    # None: never expires (a Page token made from a long-lived user token).
    expires_at: float | None
    page_id: str | None = None


@dataclass(frozen=True)
class AuthorizationCode:
    user_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class Post:
    """A Page post or an Instagram media object: what was published, and its numbers."""

    id: str
    owner_id: str  # Page id or Instagram user id
    network: Literal["facebook", "instagram"]
    message: str
    created_time: float
    kind: str = "status"  # status, link, photo, album, video; IMAGE, CAROUSEL_ALBUM, VIDEO
    link: str = ""
    media_ids: tuple[str, ...] = ()
    media_urls: tuple[str, ...] = ()
    deleted: bool = False
    likes: int = 0
    comments: int = 0
    shares: int = 0
    views: int = 0
    reach: int = 0
    saved: int = 0


@dataclass
class Photo:
    id: str
    page_id: str
    url: str
    size: int
    published: bool
    # The post that shows it, once published or attached.
    post_id: str | None = None


@dataclass
class Container:
    """An Instagram media container (POST /{ig-user-id}/media)."""

    id: str
    ig_user_id: str
    media_type: str  # IMAGE, VIDEO, REELS, CAROUSEL
    caption: str
    media_url: str
    created_at: float
    ready_at: float
    is_carousel_item: bool = False
    children: tuple[str, ...] = ()
    status_code: ContainerStatus = "IN_PROGRESS"
    published_media_id: str | None = None

    def status_at(self, now: float) -> ContainerStatus:
        if self.status_code == "IN_PROGRESS" and now >= self.ready_at:
            return "FINISHED"
        if self.status_code in ("IN_PROGRESS", "FINISHED") and now >= (
            self.created_at + CONTAINER_LIFETIME
        ):
            return "EXPIRED"
        return self.status_code


@dataclass
class UploadSession:
    """A Page video sent in chunks (upload_phase start, transfer, finish): the bytes
    received so far, and whether it was finished into a post."""

    id: str
    video_id: str
    page_id: str
    file_size: int
    received: int = 0
    finished: bool = False


@dataclass
class Settings:
    # Seconds a video container takes to become FINISHED; image containers are ready at once.
    video_processing_seconds: float = 2.0
    # Instagram's rolling 24-hour publishing quota (docs: 50; older 25) [i].
    quota_total: int = 50
    # Facebook refuses the same message on a Page again within this many seconds (#506) [inf].
    duplicate_window_seconds: int = 3600
    # Calls a Page or Instagram account may make per hour before code 32/80002 [inf]; the
    # usage headers report the share of it spent.
    object_calls_per_hour: int = 4800
    # Calls the app may make per hour before code 4 [inf].
    app_calls_per_hour: int = 100_000
    # The most bytes a resumable video upload asks for in one transfer [inf].
    video_chunk_bytes: int = 4 * 1024 * 1024

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Stats:
    # (owner id, message) -> how many Page posts / Instagram media were made.
    posts_created: Counter[tuple[str, str]] = field(default_factory=Counter)
    duplicate_refusals: Counter[tuple[str, str]] = field(default_factory=Counter)
    containers_created: int = 0
    video_chunks_received: int = 0
    media_fetches: Counter[str] = field(default_factory=Counter)
    token_exchanges: Counter[str] = field(default_factory=Counter)
    requests: dict[str, Counter[str]] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)

    def count_request(self, endpoint: str, outcome: str) -> None:
        self.requests.setdefault(endpoint, Counter())[outcome] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "posts_created_total": sum(self.posts_created.values()),
            "posts_created": counts_by_text(self.posts_created, "owner_id"),
            "duplicate_refusals": counts_by_text(self.duplicate_refusals, "owner_id"),
            "containers_created": self.containers_created,
            "video_chunks_received": self.video_chunks_received,
            "media_fetches": dict(self.media_fetches),
            "token_exchanges": dict(self.token_exchanges),
            "requests": {endpoint: dict(counts) for endpoint, counts in self.requests.items()},
            "faults": dict(self.faults),
        }


class World:
    """The fake Graph API: people, Pages, Instagram accounts, tokens, posts, containers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.clock_offset = 0.0
        self.settings = Settings()
        self.faults = FaultPlan()
        self.stats = Stats()
        self.users: dict[str, User] = {}
        self.pages: dict[str, Page] = {}
        self.instagram_users: dict[str, InstagramUser] = {}
        self.logged_in_user_id: str | None = None
        # Scopes the person grants on the dialog; None grants all that were asked.
        self.granted_scopes: tuple[str, ...] | None = None
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, Token] = {}
        self.posts: dict[str, Post] = {}
        self.photos: dict[str, Photo] = {}
        self.containers: dict[str, Container] = {}
        self.upload_sessions: dict[str, UploadSession] = {}
        # Instagram publishes counted for the quota: (ig user id, when).
        self.publishes: list[tuple[str, float]] = []
        # Calls counted for the usage headers: (who, when); who is an object id or "app".
        self.calls: list[tuple[str, float]] = []
        self._last_id = 10**14

    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_id(self) -> str:
        self._last_id += 1
        return str(self._last_id)

    def issue_token(
        self,
        *,
        kind: TokenKind,
        user_id: str,
        scopes: tuple[str, ...],
        lifetime: float | None,
        page_id: str | None = None,
    ) -> tuple[str, Token]:
        value = "EAA" + secrets.token_urlsafe(40)
        expires_at = None if lifetime is None else self.now() + lifetime
        token = Token(kind, user_id, scopes, expires_at, page_id)
        self.tokens[value] = token
        return value, token

    def revoke_user_tokens(self, user_id: str) -> None:
        """What the person removing the app (or changing their password) does."""
        self.tokens = {
            value: token for value, token in self.tokens.items() if token.user_id != user_id
        }

    def expire_user_tokens(self, user_id: str) -> None:
        """Every token of the person as if its time had run out."""
        past = self.now() - 1
        for value, token in list(self.tokens.items()):
            if token.user_id == user_id:
                self.tokens[value] = Token(
                    token.kind, token.user_id, token.scopes, past, token.page_id
                )

    def posts_of(self, owner_id: str) -> list[Post]:
        """The owner's live posts, newest first."""
        return sorted(
            (
                post
                for post in self.posts.values()
                if post.owner_id == owner_id and not post.deleted
            ),
            key=lambda post: (post.created_time, int(post.id.rsplit("_", 1)[-1])),
            reverse=True,
        )

    def quota_usage(self, ig_user_id: str) -> int:
        since = self.now() - 86_400
        return sum(1 for who, when in self.publishes if who == ig_user_id and when > since)

    def count_call(self, who: str) -> tuple[int, int]:
        """Count one call by `who` and the app; their share (percent) of the hour's allowance."""
        now = self.now()
        self.calls = [(caller, when) for caller, when in self.calls if when > now - 3600]
        self.calls.append(("app", now))
        if who != "app":
            self.calls.append((who, now))
        app = sum(1 for caller, _ in self.calls if caller == "app")
        mine = sum(1 for caller, _ in self.calls if caller == who)
        return (
            app * 100 // self.settings.app_calls_per_hour,
            mine * 100 // self.settings.object_calls_per_hour,
        )

    def minutes_to_regain(self, who: str) -> int:
        """Minutes until the oldest of `who`'s counted calls leaves the hour."""
        now = self.now()
        oldest = min((when for caller, when in self.calls if caller == who), default=now)
        return max(1, int((oldest + 3600 - now) // 60) + 1)
