"""The control API under /_fake/: set the scene, inject faults, read what happened.

No authentication: the fake only ever listens for tests, the chaos run and benchmarks.
Bodies are JSON; a bad request answers 400 `{"error": "..."}`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, get_args

from fakex.faults import (
    FAULT_KINDS,
    INJECTABLE_STATUSES,
    Fault,
    FaultMatch,
    FaultRates,
    FaultRule,
    RefuseMode,
)
from fakex.lookups import post_metrics
from fakex.ratelimits import PROFILES
from fakex.routing import Route
from fakex.state import (
    DEFAULT_CLIENT_ID,
    OAuthClient,
    SubscriptionType,
    User,
    World,
    new_grant,
)
from fakex.wire import Request, Response

DEFAULT_TOKEN_SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "problem_host": str,
    "duplicate_detection": bool,
    "duplicate_window_seconds": int,
    "usage_capped": bool,
    "credits_depleted": bool,
    "tco_links": bool,
    "media_processing_seconds": (int, float),
    "media_processing_outcome": str,
}
USER_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "username": str,
    "name": str,
    "subscription_type": str,
    "followers_count": int,
    "following_count": int,
    "description": str,
}
METRIC_GROUPS = ("public_metrics", "non_public_metrics", "organic_metrics")


class ControlError(Exception):
    """A control request the fake cannot act on; becomes a 400 (or the given status)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def reset(world: World, request: Request) -> Response:
    with world.lock:
        world.reset()
    return Response(200, {"reset": True})


def stats(world: World, request: Request) -> Response:
    with world.lock:
        return Response(200, world.stats.as_json())


def upsert_user(world: World, request: Request) -> Response:
    """Create a user, or update the given fields of an existing one."""
    body = _object(request)
    changes = {name: value for name, value in body.items() if name != "id"}
    _check_types(changes, USER_FIELD_TYPES)
    if changes.get("subscription_type", "None") not in get_args(SubscriptionType):
        raise ControlError(f"subscription_type must be one of {get_args(SubscriptionType)}")
    with world.lock:
        user_id = str(body.get("id") or world.next_id())
        user = world.users.get(user_id)
        if user is None:
            username = changes.get("username") or f"user{user_id[-8:]}"
            user = world.users[user_id] = User(
                id=user_id, username=username, name=username, created_at=world.now()
            )
        for name, value in changes.items():
            setattr(user, name, value)
        return Response(200, asdict(user))


def issue_user_tokens(world: World, request: Request) -> Response:
    """Tokens as if the user had gone through OAuth with the given client (default: the fake's)."""
    body = _object(request)
    scopes = body.get("scopes", DEFAULT_TOKEN_SCOPES)
    client_id = body.get("client_id", DEFAULT_CLIENT_ID)
    if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
        raise ControlError("scopes must be a list of scope names")
    with world.lock:
        user_id = _existing_user_id(world, request.path_params["id"])
        if client_id not in world.clients:
            raise ControlError(f"unknown client_id {client_id!r}; register it first")
        grant = new_grant(user_id=user_id, client_id=client_id, scopes=tuple(scopes))
        return Response(
            200, world.issue_tokens(grant, with_refresh_token="offline.access" in scopes)
        )


def revoke_user_tokens(world: World, request: Request) -> Response:
    with world.lock:
        world.revoke_user_tokens(_existing_user_id(world, request.path_params["id"]))
    return Response(200, {"revoked": True})


def register_client(world: World, request: Request) -> Response:
    body = _object(request)
    redirect_uris = body.get("redirect_uris") or []
    if not body.get("client_id") or not isinstance(redirect_uris, list):
        raise ControlError("client_id and a list of redirect_uris are required")
    client = OAuthClient(body["client_id"], body.get("client_secret"), tuple(redirect_uris))
    with world.lock:
        world.register_client(client)
    return Response(
        200,
        {
            "client_id": client.client_id,
            "confidential": client.confidential,
            "redirect_uris": list(client.redirect_uris),
        },
    )


def log_in(world: World, request: Request) -> Response:
    """Choose the fake user who agrees on the consent screen of /i/oauth2/authorize."""
    user_id = str(_object(request).get("user_id", ""))
    with world.lock:
        world.logged_in_user_id = _existing_user_id(world, user_id)
    return Response(200, {"user_id": user_id})


def set_clock(world: World, request: Request) -> Response:
    offset = _number(_object(request), "offset_seconds")
    with world.lock:
        world.clock_offset = offset
        return Response(200, _clock(world))


def advance_clock(world: World, request: Request) -> Response:
    seconds = _number(_object(request), "seconds")
    with world.lock:
        world.clock_offset += seconds
        return Response(200, _clock(world))


def set_rate_limits(world: World, request: Request) -> Response:
    """`profile` replaces every limit with a preset; `limits` then overrides single windows."""
    body = _object(request)
    profile = body.get("profile")
    if profile is not None and profile not in PROFILES:
        raise ControlError(f"profile must be one of {sorted(PROFILES)}")
    changes = body.get("limits") or {}
    unknown = set(changes) - set(PROFILES["pro"])
    if unknown:
        raise ControlError(f"unknown windows {sorted(unknown)}; known: {sorted(PROFILES['pro'])}")
    with world.lock:
        if profile is not None:
            world.limiter.use_profile(profile)
        for name, change in changes.items():
            world.limiter.set_limit(
                name, limit=int(change["limit"]), period_seconds=change.get("period_seconds")
            )
        return Response(200, _rate_limits(world))


def rate_limits(world: World, request: Request) -> Response:
    with world.lock:
        return Response(200, _rate_limits(world))


def update_settings(world: World, request: Request) -> Response:
    body = _object(request)
    _check_types(body, SETTING_TYPES)
    if body.get("media_processing_outcome", "succeeded") not in ("succeeded", "failed"):
        raise ControlError("media_processing_outcome must be succeeded or failed")
    return settings_apply(world, body)


def settings_apply(world: Any, body: dict[str, Any]) -> Response:
    """Set each of `body`'s settings (their types checked) on any fake's world, whose
    `settings` is a dataclass with `as_json()`; answer the settings after."""
    with world.lock:
        for name, value in body.items():
            setattr(world.settings, name, value)
        return Response(200, world.settings.as_json())


def settings(world: World, request: Request) -> Response:
    with world.lock:
        return Response(200, world.settings.as_json())


def add_fault_rule(world: World, request: Request) -> Response:
    """Fail the next `count` matching requests in the given way."""
    body = _object(request)
    rule = FaultRule(fault=_fault(body), match=_match(body), remaining=int(body.get("count", 1)))
    if rule.remaining < 1:
        raise ControlError("count must be at least 1")
    with world.lock:
        world.faults.add_rule(rule)
        return Response(200, world.faults.describe())


def set_fault_rates(world: World, request: Request) -> Response:
    """Fail matching requests at random with a probability per kind, from a seeded generator."""
    body = _object(request)
    probabilities = body.get("rates") or {}
    if not set(probabilities) <= set(FAULT_KINDS) or sum(probabilities.values()) > 1:
        raise ControlError(f"rates: probabilities per kind {FAULT_KINDS}, adding up to at most 1")
    statuses = tuple(body.get("statuses", (500, 503)))
    if not statuses or not set(statuses) <= set(INJECTABLE_STATUSES):
        raise ControlError(f"statuses must be some of {INJECTABLE_STATUSES}")
    rates = FaultRates(
        probabilities=probabilities,
        match=_match(body),
        seed=int(body.get("seed", 0)),
        latency_ms=int(body.get("latency_ms", 200)),
        statuses=statuses,
        refuse_mode=_refuse_mode(body),
    )
    with world.lock:
        world.faults.rates = rates
        return Response(200, world.faults.describe())


def clear_faults(world: World, request: Request) -> Response:
    with world.lock:
        world.faults.clear()
        return Response(200, world.faults.describe())


def faults(world: World, request: Request) -> Response:
    with world.lock:
        return Response(200, world.faults.describe())


def posts(world: World, request: Request) -> Response:
    """Every post (optionally of one user), oldest first, with what was submitted."""
    user_id = request.query.get("user_id")
    include_deleted = request.query.get("include_deleted") == "true"
    with world.lock:
        now = world.now()
        listed = [
            {
                "id": post.id,
                "author_id": post.author_id,
                "text": post.text,
                "submitted_text": post.submitted_text,
                "created_at": post.created_at,
                "in_reply_to_tweet_id": post.in_reply_to_tweet_id,
                "media_keys": list(post.media_keys),
                "deleted": post.deleted,
                **post_metrics(post, now),
            }
            for post in world.posts.values()
            if (user_id is None or post.author_id == user_id)
            and (include_deleted or not post.deleted)
        ]
    return Response(200, {"posts": listed})


def media(world: World, request: Request) -> Response:
    """Every upload (optionally of one user), oldest first, with its alt text."""
    user_id = request.query.get("user_id")
    with world.lock:
        listed = [
            {
                "id": item.id,
                "media_key": item.media_key,
                "owner_id": item.owner_id,
                "media_category": item.media_category,
                "total_bytes": item.total_bytes,
                "finalized": item.finalized_at is not None,
                "alt_text": item.alt_text,
            }
            for item in world.media.values()
            if user_id is None or item.owner_id == user_id
        ]
    return Response(200, {"media": listed})


def set_post_metrics(world: World, request: Request) -> Response:
    """Pin metric values of one post; unnamed metrics keep growing with age."""
    body = _object(request)
    if not set(body) <= set(METRIC_GROUPS):
        raise ControlError(f"groups must be some of {METRIC_GROUPS}")
    with world.lock:
        post = world.posts.get(request.path_params["id"])
        if post is None:
            raise ControlError("unknown post", status=404)
        for group, values in body.items():
            post.metrics_override.setdefault(group, {}).update(values)
        return Response(200, post_metrics(post, world.now()))


CONTROL_ROUTES = [
    Route("POST", "/_fake/reset", reset),
    Route("GET", "/_fake/stats", stats),
    Route("POST", "/_fake/users", upsert_user),
    Route("POST", "/_fake/users/:id/tokens", issue_user_tokens),
    Route("POST", "/_fake/users/:id/revoke-tokens", revoke_user_tokens),
    Route("POST", "/_fake/clients", register_client),
    Route("PUT", "/_fake/login", log_in),
    Route("PUT", "/_fake/clock", set_clock),
    Route("POST", "/_fake/clock/advance", advance_clock),
    Route("GET", "/_fake/rate-limits", rate_limits),
    Route("PUT", "/_fake/rate-limits", set_rate_limits),
    Route("GET", "/_fake/settings", settings),
    Route("PATCH", "/_fake/settings", update_settings),
    Route("GET", "/_fake/faults", faults),
    Route("POST", "/_fake/faults", add_fault_rule),
    Route("PUT", "/_fake/fault-rates", set_fault_rates),
    Route("DELETE", "/_fake/faults", clear_faults),
    Route("GET", "/_fake/posts", posts),
    Route("PUT", "/_fake/posts/:id/metrics", set_post_metrics),
    Route("GET", "/_fake/media", media),
]


def _object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as error:
        raise ControlError("the body must be JSON") from error
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _check_types(body: dict[str, Any], types: dict[str, type | tuple[type, ...]]) -> None:
    for name, value in body.items():
        expected = types.get(name)
        # bool is an int to isinstance(); a count or a duration must not be True.
        if (
            expected is None
            or not isinstance(value, expected)
            or (isinstance(value, bool) and expected is not bool)
        ):
            raise ControlError(f"unknown field or wrong type: {name}={value!r}")


def _number(body: dict[str, Any], name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{name} must be a number")
    return float(value)


def _existing_user_id(world: World, user_id: str) -> str:
    if user_id not in world.users:
        raise ControlError(f"unknown user {user_id!r}", status=404)
    return user_id


def _clock(world: World) -> dict[str, float]:
    return {"offset_seconds": world.clock_offset, "now": world.now()}


def _rate_limits(world: World) -> dict[str, Any]:
    return {
        "profile": world.limiter.profile,
        "limits": {name: asdict(limit) for name, limit in world.limiter.limits.items()},
    }


def _fault(body: dict[str, Any]) -> Fault:
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        raise ControlError(f"kind must be one of {FAULT_KINDS}")
    status = int(body.get("status", 503))
    if status not in INJECTABLE_STATUSES:
        raise ControlError(f"status must be one of {INJECTABLE_STATUSES}")
    return Fault(
        kind=kind,
        latency_ms=int(body.get("latency_ms", 0)),
        status=status,
        refuse_mode=_refuse_mode(body),
    )


def _refuse_mode(body: dict[str, Any]) -> RefuseMode:
    mode = body.get("refuse_mode", "close")
    if mode not in get_args(RefuseMode):
        raise ControlError(f"refuse_mode must be one of {get_args(RefuseMode)}")
    return mode


def _match(body: dict[str, Any]) -> FaultMatch:
    return FaultMatch(
        method=body.get("method"),
        path_prefix=body.get("path_prefix"),
        user_id=body.get("user_id"),
    )


# The control calls every fake answers alike: they touch only what every fake world has
# (its lock, clock, stats and fault plan). Another fake's routes begin with these.
SHARED_ROUTES = [
    Route("POST", "/_fake/reset", reset),
    Route("GET", "/_fake/stats", stats),
    Route("PUT", "/_fake/clock", set_clock),
    Route("POST", "/_fake/clock/advance", advance_clock),
    Route("GET", "/_fake/faults", faults),
    Route("POST", "/_fake/faults", add_fault_rule),
    Route("PUT", "/_fake/fault-rates", set_fault_rates),
    Route("DELETE", "/_fake/faults", clear_faults),
]
