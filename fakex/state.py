"""Everything the fake remembers, behind one lock.

Locking rule: every write, and every read that must agree with other state, happens while
holding `World.lock`. A lone read of one setting (a bool or a string, replaced whole) may
skip it. Slow pure work (weighted-length counting, JSON, multipart parsing, injected
latency) is done before taking the lock, so critical sections stay a few dict operations
long.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from fakex.faults import FaultPlan
from fakex.problems import TWITTER_PROBLEM_HOST
from fakex.ratelimits import ONE_DAY, RateLimiter

TWITTER_EPOCH_MS = 1288834974657
DEFAULT_CLIENT_ID = "fakex-default-client"
DEFAULT_CLIENT_SECRET = "fakex-default-secret"
DEFAULT_REDIRECT_URI = "http://127.0.0.1/oauth/callback"
ACCESS_TOKEN_LIFETIME = 7200
SubscriptionType = Literal["None", "Basic", "Premium", "PremiumPlus"]
ProcessingOutcome = Literal["succeeded", "failed"]


@dataclass
class User:
    id: str
    username: str
    name: str
    created_at: float
    subscription_type: SubscriptionType = "None"
    followers_count: int = 0
    following_count: int = 0
    description: str = ""


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str | None  # None: a public client (native app, SPA)
    redirect_uris: tuple[str, ...]

    @property
    def confidential(self) -> bool:
        return self.client_secret is not None


@dataclass(frozen=True)
class Grant:
    """One consent: what a user allowed a client. Access and refresh tokens hang off it."""

    id: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class AccessToken:
    grant: Grant
    expires_at: float


@dataclass(frozen=True)
class AuthorizationCode:
    grant: Grant
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    expires_at: float


@dataclass(frozen=True)
class Caller:
    """Who a user-context API request acts for."""

    user_id: str
    app_id: str
    scopes: tuple[str, ...]


@dataclass
class Post:
    id: str
    author_id: str
    text: str  # as X returns it, links shortened
    submitted_text: str
    created_at: float
    conversation_id: str
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    quote_tweet_id: str | None = None
    media_keys: tuple[str, ...] = ()
    deleted: bool = False
    metrics_override: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Media:
    id: str
    media_key: str
    owner_id: str
    media_type: str
    media_category: str
    total_bytes: int
    expires_at: float
    segment_sizes: dict[int, int] = field(default_factory=dict)
    finalized_at: float | None = None
    processing_seconds: float = 0.0
    processing_outcome: ProcessingOutcome = "succeeded"
    alt_text: str = ""


@dataclass
class Settings:
    problem_host: str = TWITTER_PROBLEM_HOST
    duplicate_detection: bool = True
    duplicate_window_seconds: int = ONE_DAY
    usage_capped: bool = False
    credits_depleted: bool = False
    # [obs] X returns the text with links rewritten to https://t.co/…
    tco_links: bool = True
    media_processing_seconds: float = 3.0
    media_processing_outcome: ProcessingOutcome = "succeeded"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Stats:
    posts_created: Counter[tuple[str, str]] = field(default_factory=Counter)
    duplicate_refusals: Counter[tuple[str, str]] = field(default_factory=Counter)
    requests: dict[str, Counter[str]] = field(default_factory=dict)
    token_exchanges: Counter[str] = field(default_factory=Counter)
    token_refusals: Counter[str] = field(default_factory=Counter)
    media: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def count_request(self, endpoint: str, outcome: str) -> None:
        self.requests.setdefault(endpoint, Counter())[outcome] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "posts_created_total": sum(self.posts_created.values()),
            "posts_created": counts_by_text(self.posts_created, "user_id"),
            "duplicate_refusals_total": sum(self.duplicate_refusals.values()),
            "duplicate_refusals": counts_by_text(self.duplicate_refusals, "user_id"),
            "requests": {endpoint: dict(counts) for endpoint, counts in self.requests.items()},
            "token_exchanges": dict(self.token_exchanges),
            "token_refusals": dict(self.token_refusals),
            "media": dict(self.media),
            "faults": dict(self.faults),
        }


def counts_by_text(counter: Counter[tuple[str, str]], key: str) -> list[dict[str, Any]]:
    """A count per (account, text) as the control API lists it: the account under `key`
    (each fake names it as its network does: user_id, did, account_id...)."""
    return [
        {key: account, "text": text, "count": count} for (account, text), count in counter.items()
    ]


class World:
    """The fake X: users, apps, tokens, posts, media, limits, faults and what was counted."""

    def __init__(self, *, profile: str = "pro", problem_host: str = TWITTER_PROBLEM_HOST) -> None:
        self.lock = threading.Lock()
        self._startup_profile = profile
        self._startup_problem_host = problem_host
        self.reset()

    def reset(self) -> None:
        self.clock_offset = 0.0
        self.settings = Settings(problem_host=self._startup_problem_host)
        self.limiter = RateLimiter(self._startup_profile)
        self.faults = FaultPlan()
        self.stats = Stats()
        self.users: dict[str, User] = {}
        self.logged_in_user_id: str | None = None
        self.clients: dict[str, OAuthClient] = {}
        self.register_client(
            OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, (DEFAULT_REDIRECT_URI,))
        )
        self.authorization_codes: dict[str, AuthorizationCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.posts: dict[str, Post] = {}
        self.posts_by_author: dict[str, list[str]] = {}  # ids ascending, i.e. oldest first
        self.latest_post_by_text: dict[tuple[str, str], str] = {}
        self.media: dict[str, Media] = {}
        self._last_id = 0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_id(self) -> str:
        """A snowflake-like id: 19 digits today, increasing even if the clock is set back."""
        milliseconds = int(self.now() * 1000) - TWITTER_EPOCH_MS
        self._last_id = max(milliseconds << 22, self._last_id + 1)
        return str(self._last_id)

    @property
    def problem_host(self) -> str:
        return self.settings.problem_host

    def register_client(self, client: OAuthClient) -> None:
        self.clients[client.client_id] = client

    def first_user_id(self) -> str | None:
        return next(iter(self.users), None)

    def caller_for(self, bearer_token: str | None) -> Caller | None:
        """The caller a bearer token acts for, or None when it is unknown, expired or revoked."""
        token = self.access_tokens.get(bearer_token or "")
        if token is None or token.expires_at <= self.now() or token.grant.user_id not in self.users:
            return None
        grant = token.grant
        return Caller(user_id=grant.user_id, app_id=grant.client_id, scopes=grant.scopes)

    def issue_tokens(self, grant: Grant, *, with_refresh_token: bool) -> dict[str, Any]:
        """An OAuth 2.0 token response body, field order as node's AccessOAuth2TokenResult."""
        access_token = _token()
        self.access_tokens[access_token] = AccessToken(grant, self.now() + ACCESS_TOKEN_LIFETIME)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "access_token": access_token,
            "scope": " ".join(grant.scopes),
        }
        if with_refresh_token:
            refresh_token = _token()
            self.refresh_tokens[refresh_token] = grant
            body["refresh_token"] = refresh_token
        return body

    def revoke_grant(self, grant_id: str) -> None:
        """Revoking any token of a grant ends the whole grant (RFC 7009 §2.1) [inf for X]."""
        self._drop_tokens(lambda grant: grant.id == grant_id)

    def revoke_user_tokens(self, user_id: str) -> None:
        """What a user removing the app in their X settings does."""
        self._drop_tokens(lambda grant: grant.user_id == user_id)

    def _drop_tokens(self, doomed: Callable[[Grant], bool]) -> None:
        self.access_tokens = {
            token: access
            for token, access in self.access_tokens.items()
            if not doomed(access.grant)
        }
        self.refresh_tokens = {
            token: grant for token, grant in self.refresh_tokens.items() if not doomed(grant)
        }

    def live_posts_by(self, author_id: str) -> list[Post]:
        return [
            self.posts[post_id]
            for post_id in self.posts_by_author.get(author_id, ())
            if not self.posts[post_id].deleted
        ]


def new_grant(*, user_id: str, client_id: str, scopes: tuple[str, ...]) -> Grant:
    return Grant(id=_token(), user_id=user_id, client_id=client_id, scopes=scopes)


def _token() -> str:
    return secrets.token_urlsafe(40)
