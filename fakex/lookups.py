"""Reads: GET /2/users/:id/tweets, GET /2/tweets and GET /2/users/me."""

from __future__ import annotations

import math
import re
import zlib
from datetime import UTC, datetime
from typing import Any

from fakex import problems
from fakex.schema import id_parameter_errors
from fakex.state import Caller, Post, User, World
from fakex.wire import Request, Response

# v2 field names. Fields the fake does not model are accepted and left out of the answer,
# as X leaves out a field a post does not have.
POST_FIELDS = frozenset(
    {
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    }
)
USER_FIELDS = frozenset(
    {
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    }
)
_EXPANSION_PARAMETERS = ("expansions", "media.fields", "place.fields", "poll.fields", "user.fields")
# v2.167 renamed tweet.fields to post.fields; the prose docs and clients still use the old name.
_POST_FIELD_PARAMETERS = ("tweet.fields", "post.fields")
TIMELINE_PARAMETERS = frozenset(
    {
        "end_time",
        "exclude",
        "max_results",
        "pagination_token",
        "since_id",
        "start_time",
        "until_id",
        *_EXPANSION_PARAMETERS,
        *_POST_FIELD_PARAMETERS,
    }
)
LOOKUP_PARAMETERS = frozenset({"ids", *_EXPANSION_PARAMETERS, *_POST_FIELD_PARAMETERS})
ME_PARAMETERS = frozenset({"expansions", "tweet.fields", "post.fields", "user.fields"})

# Non-public and organic metrics: only the owner, only for posts under 30 days [doc].
RESTRICTED_METRICS: dict[str, tuple[str, ...]] = {
    "non_public_metrics": (
        "impression_count",
        "url_link_clicks",
        "user_profile_clicks",
        "engagements",
    ),
    "organic_metrics": (
        "impression_count",
        "like_count",
        "reply_count",
        "retweet_count",
        "url_link_clicks",
        "user_profile_clicks",
    ),
}
RESTRICTED_METRICS_MAX_AGE = 30 * 24 * 60 * 60
# X returns at most the 3,200 most recent posts of a timeline [doc].
TIMELINE_DEPTH = 3200
MAX_RESULTS_RANGE = (5, 100)
DEFAULT_MAX_RESULTS = 10
MAX_LOOKUP_IDS = 100


def user_posts(world: World, request: Request, caller: Caller) -> Response:
    """A user's posts, newest first, with X's time, id and token paging."""
    query = request.query
    user_id = request.path_params["id"]
    errors = _timeline_errors(query, user_id)
    if errors:
        return problems.invalid_request(world.problem_host, errors)
    fields = _requested_fields(query)
    limit = int(query.get("max_results", DEFAULT_MAX_RESULTS))

    with world.lock:
        if user_id not in world.users:
            return Response(
                200,
                {
                    "errors": [
                        problems.resource_not_found(
                            world.problem_host,
                            resource_type="user",
                            resource_id=user_id,
                            parameter="id",
                        )
                    ]
                },
            )
        matching = _timeline_matches(world, user_id, query, want=limit + 1)
        page, more = matching[:limit], len(matching) > limit
        data, errors = _render_posts(world, page, fields, caller)

    if not page:
        return Response(200, {"meta": {"result_count": 0}})
    meta: dict[str, Any] = {
        "result_count": len(page),
        "newest_id": page[0].id,
        "oldest_id": page[-1].id,
    }
    if more:
        meta["next_token"] = _pagination_token(page[-1].id)
    body: dict[str, Any] = {"data": data}
    if errors:
        body["errors"] = errors
    body["meta"] = meta
    return Response(200, body)


def posts_lookup(world: World, request: Request, caller: Caller) -> Response:
    """GET /2/tweets?ids=…: a 200 partial result; missing ids become errors entries [doc]."""
    query = request.query
    ids = [post_id for post_id in query.get("ids", "").split(",") if post_id]
    errors = _unknown_parameter_errors(query, LOOKUP_PARAMETERS) + _field_errors(query, POST_FIELDS)
    if not 1 <= len(ids) <= MAX_LOOKUP_IDS:
        errors.append(
            problems.parameter_error(
                "ids",
                query.get("ids", ""),
                f"The number of values in the `ids` query parameter list [{len(ids)}] is not "
                f"between 1 and {MAX_LOOKUP_IDS}",
            )
        )
    errors += [error for post_id in ids for error in id_parameter_errors("ids", post_id)]
    if errors:
        return problems.invalid_request(world.problem_host, errors)
    fields = _requested_fields(query)

    with world.lock:
        found = [world.posts[post_id] for post_id in ids if _is_live(world, post_id)]
        data, errors = _render_posts(world, found, fields, caller)
        errors += [
            problems.resource_not_found(
                world.problem_host, resource_type="tweet", resource_id=post_id, parameter="ids"
            )
            for post_id in ids
            if not _is_live(world, post_id)
        ]
    body: dict[str, Any] = {}
    if data:
        body["data"] = data
    if errors:
        body["errors"] = errors
    return Response(200, body)


def me(world: World, request: Request, caller: Caller) -> Response:
    query = request.query
    errors = _unknown_parameter_errors(query, ME_PARAMETERS) + _list_errors(
        query, "user.fields", USER_FIELDS
    )
    if errors:
        return problems.invalid_request(world.problem_host, errors)
    fields = set(filter(None, query.get("user.fields", "").split(",")))
    with world.lock:
        user = world.users[caller.user_id]
        # Counting is linear in the user's posts; only do it when the count is shown.
        post_count = len(world.live_posts_by(user.id)) if "public_metrics" in fields else 0
    return Response(200, {"data": _render_user(user, fields, post_count=post_count)})


def _render_user(user: User, fields: set[str], *, post_count: int) -> dict[str, Any]:
    available: dict[str, Any] = {
        "created_at": _iso(user.created_at),
        "description": user.description,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user.id}/avatar_normal.jpg",
        "protected": False,
        "public_metrics": {
            "followers_count": user.followers_count,
            "following_count": user.following_count,
            "tweet_count": post_count,
            "listed_count": 0,
            "like_count": 0,
        },
        "subscription_type": user.subscription_type,
        "verified": False,
        "verified_type": "none",
    }
    data = {"id": user.id, "name": user.name, "username": user.username}
    data.update({name: value for name, value in available.items() if name in fields})
    return dict(sorted(data.items()))


def post_metrics(post: Post, now: float) -> dict[str, dict[str, int]]:
    """Small deterministic numbers that grow with the post's age, unless control set them."""
    minutes = max(0.0, (now - post.created_at) / 60)
    reach = 20 + zlib.crc32(post.id.encode()) % 30
    impressions = int(reach * math.log1p(minutes))
    public = {
        "retweet_count": impressions // 40,
        "reply_count": impressions // 30,
        "like_count": impressions // 12,
        "quote_count": impressions // 90,
        "bookmark_count": impressions // 60,
        "impression_count": impressions,
        **post.metrics_override.get("public_metrics", {}),
    }
    clicks = {
        "url_link_clicks": public["impression_count"] // 25,
        "user_profile_clicks": public["impression_count"] // 35,
    }
    engagements = sum(
        public[name] for name in ("retweet_count", "reply_count", "like_count", "quote_count")
    ) + sum(clicks.values())
    non_public = {
        "impression_count": public["impression_count"],
        **clicks,
        "engagements": engagements,
        **post.metrics_override.get("non_public_metrics", {}),
    }
    organic = {
        name: public[name]
        for name in ("impression_count", "like_count", "reply_count", "retweet_count")
    }
    organic.update(clicks)
    organic.update(post.metrics_override.get("organic_metrics", {}))
    return {"public_metrics": public, "non_public_metrics": non_public, "organic_metrics": organic}


def _render_post(
    post: Post, fields: set[str], *, metrics: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """id, text and edit_history_tweet_ids always (X's defaults), the rest on request."""
    available: dict[str, Any] = {
        "author_id": post.author_id,
        "conversation_id": post.conversation_id,
        "created_at": _iso(post.created_at),
        **metrics,
    }
    if post.in_reply_to_user_id:
        available["in_reply_to_user_id"] = post.in_reply_to_user_id
    references = [
        {"type": kind, "id": post_id}
        for kind, post_id in (
            ("replied_to", post.in_reply_to_tweet_id),
            ("quoted", post.quote_tweet_id),
        )
        if post_id
    ]
    if references:
        available["referenced_tweets"] = references
    if post.media_keys:
        available["attachments"] = {"media_keys": list(post.media_keys)}
    data = {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
    data.update({name: value for name, value in available.items() if name in fields})
    return dict(sorted(data.items()))


def _render_posts(
    world: World, posts: list[Post], fields: set[str], caller: Caller
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rendered posts, plus a Field Authorization Error per restricted metric refused [obs]."""
    now = world.now()
    data, errors = [], []
    for post in posts:
        metrics = post_metrics(post, now)
        owned_and_recent = (
            post.author_id == caller.user_id and now - post.created_at < RESTRICTED_METRICS_MAX_AGE
        )
        for group, names in RESTRICTED_METRICS.items():
            if group in fields and not owned_and_recent:
                del metrics[group]
                errors += [
                    problems.not_authorized_for_field(
                        world.problem_host, post_id=post.id, field=f"{group}.{name}"
                    )
                    for name in names
                ]
        data.append(_render_post(post, fields, metrics=metrics))
    return data, errors


def _timeline_errors(query: dict[str, str], user_id: str) -> list[dict[str, Any]]:
    errors = (
        _unknown_parameter_errors(query, TIMELINE_PARAMETERS)
        + id_parameter_errors("id", user_id)
        + _field_errors(query, POST_FIELDS)
        + _max_results_errors(query)
        + _list_errors(query, "exclude", frozenset({"replies", "retweets"}))
        + _pagination_errors(query)
    )
    for name in ("since_id", "until_id"):
        if name in query:
            errors += id_parameter_errors(name, query[name])
    for name in ("start_time", "end_time"):
        if name in query:
            errors += _time_errors(name, query[name])
    return errors


def _timeline_matches(
    world: World, user_id: str, query: dict[str, str], *, want: int
) -> list[Post]:
    start = _parse_time(query["start_time"]) if "start_time" in query else None
    end = _parse_time(query["end_time"]) if "end_time" in query else None
    since_id = int(query.get("since_id", 0))
    until_id = min(
        int(query.get("until_id", 10**19)),
        _decode_pagination_token(query.get("pagination_token")),
    )
    excluded = set(query.get("exclude", "").split(","))
    matches: list[Post] = []
    for post_id in reversed(world.posts_by_author.get(user_id, [])[-TIMELINE_DEPTH:]):
        post = world.posts[post_id]
        if (
            post.deleted
            or not since_id < int(post.id) < until_id
            or (start is not None and post.created_at < start)
            or (end is not None and post.created_at >= end)
            or ("replies" in excluded and post.in_reply_to_tweet_id)
        ):
            continue
        matches.append(post)
        if len(matches) == want:
            break
    return matches


def _is_live(world: World, post_id: str) -> bool:
    post = world.posts.get(post_id)
    return post is not None and not post.deleted


def _requested_fields(query: dict[str, str]) -> set[str]:
    return {
        name
        for parameter in _POST_FIELD_PARAMETERS
        for name in query.get(parameter, "").split(",")
        if name
    }


def _unknown_parameter_errors(query: dict[str, str], allowed: frozenset[str]) -> list[dict]:
    return [
        problems.parameter_error(
            name,
            value,
            f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]",
        )
        for name, value in query.items()
        if name not in allowed
    ]


def _field_errors(query: dict[str, str], allowed: frozenset[str]) -> list[dict]:
    return [
        error
        for parameter in _POST_FIELD_PARAMETERS
        for error in _list_errors(query, parameter, allowed)
    ]


def _list_errors(query: dict[str, str], parameter: str, allowed: frozenset[str]) -> list[dict]:
    return [
        problems.parameter_error(
            parameter,
            value,
            f"The `{parameter}` query parameter value [{value}] is not one of "
            f"[{','.join(sorted(allowed))}]",
        )
        for value in query.get(parameter, "").split(",")
        if value and value not in allowed
    ]


def _max_results_errors(query: dict[str, str]) -> list[dict]:
    raw = query.get("max_results", str(DEFAULT_MAX_RESULTS))
    low, high = MAX_RESULTS_RANGE
    if raw.isdigit() and low <= int(raw) <= high:
        return []
    return [
        problems.parameter_error(
            "max_results",
            raw,
            f"The `max_results` query parameter value [{raw}] is not between {low} and {high}",
        )
    ]


def _time_errors(parameter: str, value: str) -> list[dict]:
    try:
        _parse_time(value)
    except ValueError:
        return [
            problems.parameter_error(
                parameter,
                value,
                f"Invalid '{parameter}':'{value}'. '{parameter}' must be a valid RFC 3339 "
                "date-time.",
            )
        ]
    return []


def _pagination_errors(query: dict[str, str]) -> list[dict]:
    token = query.get("pagination_token")
    try:
        _decode_pagination_token(token)
    except ValueError:
        return [
            problems.parameter_error(
                "pagination_token",
                token,
                f"The `pagination_token` query parameter value [{token}] is not valid",
            )
        ]
    return []


def _pagination_token(oldest_id: str) -> str:
    """Opaque to clients; here the base-36 id below which the next page starts."""
    number, digits = int(oldest_id), []
    while number:
        number, digit = divmod(number, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[digit])
    return "".join(reversed(digits)) or "0"


def _decode_pagination_token(token: str | None) -> int:
    if token is None:
        return 10**19
    if not re.fullmatch(r"[0-9a-z]{1,13}", token):
        raise ValueError("not a token this fake issued")
    return int(token, 36)


def _parse_time(value: str) -> float:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a time zone is required")
    return parsed.timestamp()


def _iso(timestamp: float) -> str:
    """X's format: milliseconds and a Z."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
