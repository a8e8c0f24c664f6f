"""POST /2/tweets and DELETE /2/tweets/:id."""

from __future__ import annotations

import hashlib
import re
import string
from typing import Any

from twitter_text import extract_urls_with_indices, parse_tweet

from fakex import problems
from fakex.media import media_is_attachable, media_kind
from fakex.schema import ID, id_parameter_errors, schema_errors
from fakex.state import Caller, Post, World
from fakex.wire import Request, Response

STANDARD_MAX_WEIGHTED_LENGTH = 280
# [inf] the 25,000-character limit is assumed to be for paying subscribers only.
LONG_POST_MAX_WEIGHTED_LENGTH = 25_000
LONG_POST_SUBSCRIPTIONS = frozenset({"Premium", "PremiumPlus"})
TRANSFORMED_URL_LENGTH = 23

# [inf] X's wording for these three refusals is not quoted in platforms.md.
REPLY_TARGET_GONE_DETAIL = (
    "You attempted to reply to a Tweet that is deleted or not visible to you."
)
DELETE_NOT_AUTHOR_DETAIL = "You are not allowed to delete a Tweet that you did not author."
MEDIA_IDS_INVALID_MESSAGE = "Your media IDs are invalid."

# v2.165 TweetCreateRequest, additionalProperties:false at every level (platforms.md §1.1).
TWEET_CREATE_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string"},
        "media": {
            "type": "object",
            "additionalProperties": False,
            "required": ["media_ids"],
            "properties": {
                "media_ids": {"type": "array", "minItems": 1, "maxItems": 4, "items": ID},
                "tagged_user_ids": {"type": "array", "maxItems": 10, "items": ID},
            },
        },
        "reply": {
            "type": "object",
            "additionalProperties": False,
            "required": ["in_reply_to_tweet_id"],
            "properties": {
                "in_reply_to_tweet_id": ID,
                "exclude_reply_user_ids": {"type": "array", "items": ID},
            },
        },
        "quote_tweet_id": ID,
        "poll": {
            "type": "object",
            "additionalProperties": False,
            "required": ["options", "duration_minutes"],
            "properties": {
                "options": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 4,
                    "items": {"type": "string", "minLength": 1, "maxLength": 25},
                },
                "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 10080},
            },
        },
        "reply_settings": {
            "type": "string",
            "enum": ["following", "mentionedUsers", "subscribers", "verified"],
        },
        "geo": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"place_id": {"type": "string"}},
        },
        "card_uri": {"type": "string"},
        "community_id": ID,
        "direct_message_deep_link": {"type": "string"},
        "for_super_followers_only": {"type": "boolean"},
        "nullcast": {"type": "boolean"},
        "share_with_followers": {"type": "boolean"},
        "made_with_ai": {"type": "boolean"},
    },
}
MUTUALLY_EXCLUSIVE_FIELDS = ("media", "quote_tweet_id", "poll", "card_uri")

_TCO_ALPHABET = string.digits + string.ascii_letters


def create_post(world: World, request: Request, caller: Caller) -> Response:
    try:
        body = request.json()
    except ValueError:
        return problems.invalid_request(
            world.problem_host,
            [{"message": "Request body is not valid JSON."}],  # [inf]
        )
    errors = schema_errors(body, TWEET_CREATE_REQUEST) or _content_errors(body)
    if errors:
        return problems.invalid_request(world.problem_host, errors)

    # Counting and link shortening are the slow part; both are done before taking the lock.
    submitted_text = body.get("text", "")
    text_length = weighted_length(submitted_text)
    shown_text = shorten_links(submitted_text) if world.settings.tco_links else submitted_text

    with world.lock:
        user = world.users[caller.user_id]
        max_length = (
            LONG_POST_MAX_WEIGHTED_LENGTH
            if user.subscription_type in LONG_POST_SUBSCRIPTIONS
            else STANDARD_MAX_WEIGHTED_LENGTH
        )
        if text_length > max_length:
            return problems.text_too_long(world.problem_host)
        reply_to = body.get("reply", {}).get("in_reply_to_tweet_id")
        refusal = _reply_refusal(world, caller, reply_to) if reply_to else None
        refusal = refusal or _media_refusal(
            world, caller, body.get("media", {}).get("media_ids", [])
        )
        if refusal:
            return refusal
        if _is_duplicate(world, caller.user_id, submitted_text):
            world.stats.duplicate_refusals[(caller.user_id, submitted_text)] += 1
            return problems.forbidden(problems.DUPLICATE_CONTENT_DETAIL)
        post = _store_post(
            world, caller, body, submitted_text=submitted_text, shown_text=shown_text
        )

    # [obs] key order of the 201 body.
    return Response(
        201, {"data": {"edit_history_tweet_ids": [post.id], "id": post.id, "text": post.text}}
    )


def delete_post(world: World, request: Request, caller: Caller) -> Response:
    post_id = request.path_params["id"]
    errors = id_parameter_errors("id", post_id)
    if errors:
        return problems.invalid_request(world.problem_host, errors)
    with world.lock:
        post = world.posts.get(post_id)
        if post is None or post.deleted:
            return _post_not_found(world, post_id)
        if post.author_id != caller.user_id:
            return problems.forbidden(DELETE_NOT_AUTHOR_DETAIL)
        post.deleted = True
        # A deleted post no longer blocks posting the same text again.
        world.latest_post_by_text.pop((post.author_id, post.submitted_text), None)
    return Response(200, {"data": {"deleted": True}})


def weighted_length(text: str) -> int:
    """twitter-text v3 weighted length, as parse_tweet() counts it.

    ASCII text holds no emoji and every character weighs 1, so it skips the library's emoji
    scan, which is most of the cost of a post; only links (23 each) and CRLF (1) need care.
    """
    if not text.isascii():
        return parse_tweet(text).weightedLength
    normalized = text.replace("\r\n", "\n")
    links = extract_urls_with_indices(normalized)
    return len(normalized) + sum(TRANSFORMED_URL_LENGTH - len(link["url"]) for link in links)


def shorten_links(text: str) -> str:
    """Rewrite each link the twitter-text extractor finds to a stable fake t.co link."""
    shortened = text
    for found in reversed(extract_urls_with_indices(text)):
        start, end = found["indices"]
        shortened = shortened[:start] + _tco_link(found["url"]) + shortened[end:]
    return shortened


def _mentions(text: str, username: str) -> bool:
    return re.search(rf"(?<![\w@])@{re.escape(username)}(?!\w)", text, re.IGNORECASE) is not None


def _content_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules X checks beyond the schema [doc]; the messages are [inf]."""
    if not body.get("text") and "media" not in body:
        return [problems.parameter_error("text", "", "$.text: is missing but it is required")]
    present = [name for name in MUTUALLY_EXCLUSIVE_FIELDS if name in body]
    if len(present) > 1:
        return [
            problems.parameter_error(
                name, body[name], f"$: only one of {', '.join(present)} may be given"
            )
            for name in present
        ]
    return []


def _reply_refusal(world: World, caller: Caller, reply_to: str) -> Response | None:
    """Since Feb 2026 a reply needs the original author to have summoned the replier [obs]."""
    target = world.posts.get(reply_to)
    if target is None or target.deleted:
        return problems.forbidden(REPLY_TARGET_GONE_DETAIL)
    if target.author_id == caller.user_id:
        return None  # threads are replies to one's own posts
    replier = world.users[caller.user_id]
    quoted = world.posts.get(target.quote_tweet_id or "")
    summoned = _mentions(target.submitted_text, replier.username) or (
        quoted is not None and quoted.author_id == caller.user_id
    )
    return None if summoned else problems.forbidden(problems.REPLY_NOT_SUMMONED_DETAIL)


def _media_refusal(world: World, caller: Caller, media_ids: list[str]) -> Response | None:
    """Each id uploaded by this user, processed and unexpired; 4 photos, or 1 GIF or video."""
    if not media_ids:
        return None
    now = world.now()
    attached = [world.media.get(media_id) for media_id in media_ids]
    usable = all(
        media is not None and media.owner_id == caller.user_id and media_is_attachable(media, now)
        for media in attached
    )
    kinds = {media_kind(media) for media in attached if media is not None}
    if usable and (kinds == {"photo"} or len(attached) == 1):
        return None
    return problems.invalid_request(
        world.problem_host,
        [problems.parameter_error("media.media_ids", media_ids, MEDIA_IDS_INVALID_MESSAGE)],
    )


def _is_duplicate(world: World, user_id: str, submitted_text: str) -> bool:
    if not submitted_text or not world.settings.duplicate_detection:
        return False
    earlier = world.posts.get(world.latest_post_by_text.get((user_id, submitted_text), ""))
    return (
        earlier is not None
        and not earlier.deleted
        and world.now() - earlier.created_at < world.settings.duplicate_window_seconds
    )


def _store_post(
    world: World, caller: Caller, body: dict[str, Any], *, submitted_text: str, shown_text: str
) -> Post:
    post_id = world.next_id()
    reply_to = world.posts.get(body.get("reply", {}).get("in_reply_to_tweet_id", ""))
    media_ids = body.get("media", {}).get("media_ids", [])
    post = Post(
        id=post_id,
        author_id=caller.user_id,
        text=shown_text,
        submitted_text=submitted_text,
        created_at=world.now(),
        conversation_id=reply_to.conversation_id if reply_to else post_id,
        in_reply_to_tweet_id=reply_to.id if reply_to else None,
        in_reply_to_user_id=reply_to.author_id if reply_to else None,
        quote_tweet_id=body.get("quote_tweet_id"),
        media_keys=tuple(world.media[media_id].media_key for media_id in media_ids),
    )
    world.posts[post_id] = post
    world.posts_by_author.setdefault(caller.user_id, []).append(post_id)
    world.latest_post_by_text[(caller.user_id, submitted_text)] = post_id
    world.stats.posts_created[(caller.user_id, submitted_text)] += 1
    return post


def _post_not_found(world: World, post_id: str) -> Response:
    """[inf] X's answer for deleting a missing post was not found; a v2 not-found problem."""
    return Response(
        404,
        {
            "title": "Not Found Error",
            "type": problems.problem_type(world.problem_host, "resource-not-found"),
            "status": 404,
            "detail": f"Could not find tweet with id: [{post_id}].",
        },
    )


def _tco_link(url: str) -> str:
    number = int.from_bytes(hashlib.sha256(url.encode()).digest()[:8], "big")
    slug = []
    for _ in range(10):
        number, digit = divmod(number, len(_TCO_ALPHABET))
        slug.append(_TCO_ALPHABET[digit])
    return "https://t.co/" + "".join(slug)
