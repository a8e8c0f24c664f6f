"""Everything the fake Mastodon instance remembers, behind one lock.

Locking rule, as in fakex: every write, and every read that must agree with other
state, happens while holding `World.lock`; slow pure work (JSON, multipart parsing,
injected latency) is done before taking it.

Facts are from reference/networks.md (Mastodon); `[inf]` marks what the fake had to
choose where the documentation is silent.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fakemastodon.ratelimits import RateLimiter
from fakex.faults import FaultPlan
from fakex.state import counts_by_text

# The instance's own name, as its URLs show it.
DEFAULT_DOMAIN = "mastodon.example"
ProcessingOutcome = Literal["succeeded", "failed"]


@dataclass
class Account:
    id: str
    username: str
    display_name: str
    created_at: float
    followers_count: int = 0
    following_count: int = 0
    note: str = ""
    # "Your login is currently disabled": the instance's staff suspended the sign-in.
    disabled: bool = False


@dataclass(frozen=True)
class App:
    """An OAuth application registered with POST /api/v1/apps."""

    id: str
    name: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    website: str = ""


@dataclass(frozen=True)
class Token:
    """An access token: Mastodon's never expire; only revoking ends them."""

    account_id: str
    client_id: str
    scopes: tuple[str, ...]
    created_at: float


@dataclass(frozen=True)
class AuthorizationCode:
    account_id: str
    client_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    code_challenge: str
    expires_at: float


@dataclass(frozen=True)
class Caller:
    """Who an authenticated API request acts for."""

    account_id: str
    client_id: str
    scopes: tuple[str, ...]


@dataclass
class Status:
    id: str
    account_id: str
    text: str
    created_at: float
    visibility: str = "public"
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    media_ids: tuple[str, ...] = ()
    language: str | None = None
    sensitive: bool = False
    spoiler_text: str = ""
    application: str = ""
    deleted: bool = False
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    quotes_count: int = 0


@dataclass
class Media:
    id: str
    account_id: str
    kind: str  # image, gifv, video
    mime_type: str
    size: int
    description: str
    created_at: float
    ready_at: float
    outcome: ProcessingOutcome = "succeeded"
    status_id: str | None = None


@dataclass
class Configuration:
    """What GET /api/v2/instance says under `configuration` (the defaults of Mastodon 4.3)."""

    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    image_size_limit: int = 16_777_216
    video_size_limit: int = 103_809_024
    description_limit: int = 1500
    supported_mime_types: tuple[str, ...] = (
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/heif",
        "image/avif",
        "video/webm",
        "video/mp4",
        "video/quicktime",
        "video/ogg",
        "audio/wave",
        "audio/wav",
        "audio/x-wav",
        "audio/x-pn-wave",
        "audio/vnd.wave",
        "audio/ogg",
        "audio/vorbis",
        "audio/mpeg",
        "audio/mp3",
        "audio/webm",
        "audio/flac",
        "audio/aac",
        "audio/m4a",
        "audio/x-m4a",
        "audio/mp4",
        "audio/3gpp",
        "video/x-ms-asf",
    )

    def as_json(self) -> dict[str, Any]:
        return {
            "urls": {"streaming": "wss://streaming.mastodon.example"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": self.max_media_attachments,
                "characters_reserved_per_url": self.characters_reserved_per_url,
            },
            "media_attachments": {
                "supported_mime_types": list(self.supported_mime_types),
                "description_limit": self.description_limit,
                "image_size_limit": self.image_size_limit,
                "image_matrix_limit": 33_177_600,
                "video_size_limit": self.video_size_limit,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8_294_400,
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2_629_746,
            },
            "translation": {"enabled": False},
        }


@dataclass
class Settings:
    # How long a video or GIF takes to process; images are ready at once.
    media_processing_seconds: float = 2.0
    media_processing_outcome: ProcessingOutcome = "succeeded"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Stats:
    statuses_created: Counter[tuple[str, str]] = field(default_factory=Counter)
    idempotent_replays: Counter[tuple[str, str]] = field(default_factory=Counter)
    requests: dict[str, Counter[str]] = field(default_factory=dict)
    token_exchanges: Counter[str] = field(default_factory=Counter)
    apps_registered: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def count_request(self, endpoint: str, outcome: str) -> None:
        self.requests.setdefault(endpoint, Counter())[outcome] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "statuses_created_total": sum(self.statuses_created.values()),
            "statuses_created": counts_by_text(self.statuses_created, "account_id"),
            "idempotent_replays": counts_by_text(self.idempotent_replays, "account_id"),
            "requests": {endpoint: dict(counts) for endpoint, counts in self.requests.items()},
            "token_exchanges": dict(self.token_exchanges),
            "apps_registered": self.apps_registered,
            "faults": dict(self.faults),
        }


class World:
    """The fake instance: accounts, apps, tokens, statuses, media, limits, faults, counts."""

    def __init__(self, *, domain: str = DEFAULT_DOMAIN) -> None:
        self.lock = threading.Lock()
        self.domain = domain
        self.reset()

    def reset(self) -> None:
        self.clock_offset = 0.0
        self.configuration = Configuration()
        self.settings = Settings()
        self.limiter = RateLimiter()
        self.faults = FaultPlan()
        self.stats = Stats()
        self.accounts: dict[str, Account] = {}
        self.logged_in_account_id: str | None = None
        self.apps: dict[str, App] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, Token] = {}
        self.statuses: dict[str, Status] = {}
        self.media: dict[str, Media] = {}
        # (account id, Idempotency-Key) -> (status id, when the key is forgotten)
        self.idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self._last_id = 0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_id(self) -> str:
        """A Mastodon snowflake: milliseconds since 1970 shifted 16 bits, then a sequence."""
        self._last_id = max(int(self.now() * 1000) << 16, self._last_id + 1)
        return str(self._last_id)

    def caller_for(self, bearer_token: str | None) -> Caller | None:
        token = self.tokens.get(bearer_token or "")
        if token is None or token.account_id not in self.accounts:
            return None
        return Caller(account_id=token.account_id, client_id=token.client_id, scopes=token.scopes)

    def issue_token(self, *, account_id: str, client_id: str, scopes: tuple[str, ...]) -> dict:
        """The body of POST /oauth/token: no expiry and no refresh token, ever."""
        value = secrets.token_urlsafe(32)
        now = self.now()
        self.tokens[value] = Token(account_id, client_id, scopes, now)
        return {
            "access_token": value,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "created_at": int(now),
        }

    def revoke_account_tokens(self, account_id: str) -> None:
        """What the person removing Kairos under Preferences → Account → Authorized apps does."""
        self.tokens = {
            value: token for value, token in self.tokens.items() if token.account_id != account_id
        }

    def live_statuses_of(self, account_id: str) -> list[Status]:
        """The account's statuses, newest first, as its profile lists them."""
        return sorted(
            (s for s in self.statuses.values() if s.account_id == account_id and not s.deleted),
            key=lambda status: int(status.id),
            reverse=True,
        )

    def status_url(self, status: Status) -> str:
        return f"https://{self.domain}/@{self.accounts[status.account_id].username}/{status.id}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)
