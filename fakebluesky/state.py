"""What the fake Bluesky remembers: accounts, sessions, repos of records, blobs, limits.

Every field is guarded by `World.lock`; handlers take it for as long as they read or
write. Times are Unix seconds from `World.now()`, which the control API can move.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from fakex.faults import FaultPlan
from fakex.state import counts_by_text

# networks.md, Bluesky: an app-password session's access JWT lives 2 hours, its refresh
# JWT 90 days.
ACCESS_JWT_LIFETIME = 2 * 60 * 60
REFRESH_JWT_LIFETIME = 90 * 24 * 60 * 60
# A refresh JWT once used keeps working this long, giving the same next one (the PDS's
# REFRESH_GRACE_MS, atproto pull request 657): a client whose answer was lost asks again.
REFRESH_GRACE = 2 * 60 * 60
POST_COLLECTION = "app.bsky.feed.post"

Scope = Literal["com.atproto.access", "com.atproto.refresh"]
AccountStatus = Literal["active", "takendown", "deactivated"]


@dataclass
class Account:
    did: str
    handle: str
    app_password: str
    email: str = ""
    display_name: str = ""
    avatar: str = ""
    followers_count: int = 0
    status: AccountStatus = "active"


@dataclass(frozen=True)
class Session:
    did: str
    scope: Scope
    expires_at: float
    jti: str
    # The jti of the refresh JWT this one was rotated into, once it was used.
    next_jti: str = ""


@dataclass
class Record:
    did: str
    collection: str
    rkey: str
    cid: str
    value: dict[str, Any]
    indexed_at: float
    metrics: dict[str, int] = field(default_factory=dict)
    # Not (yet) shown by the AppView: not indexed, or hidden by moderation.
    unlisted: bool = False

    @property
    def uri(self) -> str:
        return f"at://{self.did}/{self.collection}/{self.rkey}"


@dataclass(frozen=True)
class Blob:
    cid: str
    mime_type: str
    size: int
    owner_did: str


@dataclass(frozen=True)
class ServiceToken:
    """A token from getServiceAuth: one method (`lxm`) at one service (`aud`), briefly."""

    did: str
    aud: str
    lxm: str
    expires_at: float


@dataclass
class VideoJob:
    job_id: str
    did: str
    blob_cid: str
    done_at: float
    outcome: Literal["succeeded", "failed"]


@dataclass
class VideoSettings:
    processing_seconds: float = 0.0
    outcome: Literal["succeeded", "failed"] = "succeeded"


@dataclass(frozen=True)
class Limit:
    """A window of points: each request costs `points` of `limit` per `period_seconds`."""

    limit: int
    period_seconds: int


# networks.md, Bluesky: writes cost points per DID (create 3, update 2, delete 1), 5,000
# an hour and 35,000 a day; createSession 30 per 5 minutes and 300 a day per account.
DEFAULT_LIMITS: dict[str, Limit] = {
    "repo_write_hour": Limit(5_000, 60 * 60),
    "repo_write_day": Limit(35_000, 24 * 60 * 60),
    "create_session_5min": Limit(30, 5 * 60),
    "create_session_day": Limit(300, 24 * 60 * 60),
}
WRITE_POINTS = {"create": 3, "update": 2, "delete": 1}


@dataclass
class WindowState:
    used: int = 0
    resets_at: float = 0.0


@dataclass(frozen=True)
class LimitReading:
    name: str
    limit: int
    remaining: int
    resets_at: float
    period_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.resets_at)),
            "RateLimit-Policy": f"{self.limit};w={self.period_seconds}",
        }


class Limiter:
    """Fixed windows that open at their first use and reset whole [inf: the PDS uses
    rate-limiter-flexible, whose windows behave the same way]."""

    def __init__(self) -> None:
        self.limits = dict(DEFAULT_LIMITS)
        self.windows: dict[tuple[str, str], WindowState] = {}

    def take(
        self, names: tuple[str, ...], *, subject: str, points: int, now: float
    ) -> tuple[bool, LimitReading]:
        """Spend `points` in every window, or none when one lacks them. The reading is the
        window nearest to refusing, as the PDS reports only one."""
        states = [self._state(name, subject, now) for name in names]
        admitted = all(
            state.used + points <= self.limits[name].limit
            for name, state in zip(names, states, strict=True)
        )
        if admitted:
            for state in states:
                state.used += points
        readings = [self._reading(name, state) for name, state in zip(names, states, strict=True)]
        return admitted, min(
            readings, key=lambda reading: reading.remaining / max(reading.limit, 1)
        )

    def _state(self, name: str, subject: str, now: float) -> WindowState:
        state = self.windows.setdefault((name, subject), WindowState())
        if state.resets_at <= now:
            state.used, state.resets_at = 0, now + self.limits[name].period_seconds
        return state

    def _reading(self, name: str, state: WindowState) -> LimitReading:
        limit = self.limits[name]
        return LimitReading(
            name=name,
            limit=limit.limit,
            remaining=max(limit.limit - state.used, 0),
            resets_at=state.resets_at,
            period_seconds=limit.period_seconds,
        )


@dataclass
class Stats:
    # (did, text) of every post record created, whatever became of it.
    posts_created: Counter[tuple[str, str]] = field(default_factory=Counter)
    existing_record_refusals: Counter[tuple[str, str]] = field(default_factory=Counter)
    sessions_created: Counter[str] = field(default_factory=Counter)
    sessions_refreshed: Counter[str] = field(default_factory=Counter)
    requests: dict[str, Counter[str]] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)

    def count_request(self, endpoint: str, outcome: str) -> None:
        self.requests.setdefault(endpoint, Counter())[outcome] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "posts_created_total": sum(self.posts_created.values()),
            "posts_created": counts_by_text(self.posts_created, "did"),
            "existing_record_refusals": counts_by_text(self.existing_record_refusals, "did"),
            "sessions_created": dict(self.sessions_created),
            "sessions_refreshed": dict(self.sessions_refreshed),
            "requests": {endpoint: dict(counts) for endpoint, counts in self.requests.items()},
            "faults": dict(self.faults),
        }


class World:
    """The fake Bluesky: one PDS and its AppView, as Kairos sees them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.clock_offset = 0.0
        self.limiter = Limiter()
        self.faults = FaultPlan()
        self.stats = Stats()
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, Session] = {}  # by JWT
        self.records: dict[str, Record] = {}  # by at:// URI
        self.blobs: dict[str, Blob] = {}
        self.service_tokens: dict[str, ServiceToken] = {}
        self.video_jobs: dict[str, VideoJob] = {}
        self.video = VideoSettings()

    def now(self) -> float:
        return time.time() + self.clock_offset

    def account_by(self, identifier: str) -> Account | None:
        """By DID, handle or email, as createSession takes any of them."""
        wanted = identifier.lower().removeprefix("@")
        for account in self.accounts.values():
            if wanted in (account.did, account.handle.lower(), account.email.lower()):
                return account
        return None

    def session_open(self, did: str, *, refresh_jti: str = "") -> dict[str, str]:
        """A fresh access and refresh JWT for the account; `refresh_jti` names the refresh
        JWT's id (the same one again for a refresh in its grace period)."""
        now = self.now()
        tokens = {}
        for name, scope, lifetime, jti in (
            ("accessJwt", "com.atproto.access", ACCESS_JWT_LIFETIME, _token()),
            ("refreshJwt", "com.atproto.refresh", REFRESH_JWT_LIFETIME, refresh_jti or _token()),
        ):
            session = Session(did=did, scope=scope, expires_at=now + lifetime, jti=jti)
            token = _jwt(session, issued_at=now)
            self.sessions[token] = session
            tokens[name] = token
        return tokens

    def session_rotate(self, refresh_jwt: str) -> str:
        """Use a refresh JWT: it now lapses within the grace period, and names the id of
        the refresh JWT it was rotated into, which is returned."""
        used = self.sessions[refresh_jwt]
        rotated = dataclasses.replace(
            used,
            expires_at=min(used.expires_at, self.now() + REFRESH_GRACE),
            next_jti=used.next_jti or _token(),
        )
        self.sessions[refresh_jwt] = rotated
        return rotated.next_jti

    def sessions_end(self, did: str) -> None:
        """What revoking the app password does: every session of it stops working."""
        self.sessions = {
            token: session for token, session in self.sessions.items() if session.did != did
        }

    def blob_cid(self, data: bytes) -> str:
        return "bafkrei" + base64.b32encode(hashlib.sha256(data).digest()).decode().lower()[:52]

    def record_cid(self, value: dict[str, Any]) -> str:
        encoded = json.dumps(value, sort_keys=True).encode() + _token().encode()
        return "bafyrei" + base64.b32encode(hashlib.sha256(encoded).digest()).decode().lower()[:52]

    def commit(self) -> dict[str, str]:
        return {"cid": self.record_cid({"commit": self.now()}), "rev": tid_for(self.now())}


TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid_for(seconds: float) -> str:
    """A TID for a moment: microseconds since the epoch, then a random clock id."""
    value = (int(seconds * 1_000_000) << 10) | secrets.randbelow(1024)
    return "".join(TID_ALPHABET[(value >> (5 * shift)) & 31] for shift in range(12, -1, -1))


def _token() -> str:
    return secrets.token_urlsafe(16)


def _jwt(session: Session, *, issued_at: float) -> str:
    """A JWT-shaped token whose payload says what a PDS's does; the signature is noise."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    header = {"typ": "at+jwt" if session.scope == "com.atproto.access" else "refresh+jwt"}
    payload = {
        "scope": session.scope,
        "sub": session.did,
        "iat": int(issued_at),
        "exp": int(session.expires_at),
        "jti": session.jti,
    }
    return f"{part({'alg': 'HS256', **header})}.{part(payload)}.{_token()}"
