"""What Instagram refuses in a post, as sentences saying what to change (pure).

Facts from reference/networks.md (Instagram); `[i]` where the sources disagree.
"""

from __future__ import annotations

import re

from publishing.networks.base import MediaKind, PartContent

CAPTION_LIMIT = 2200
MAX_ITEMS = 10  # a carousel's children
MAX_HASHTAGS = 30  # Meta's reference; some 2026 tools say 5 [i]
MAX_MENTIONS = 20  # [i]
IMAGE_TYPES = frozenset({"image/jpeg"})
IMAGE_MAX_BYTES = 8 * 1024 * 1024
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
VIDEO_MAX_BYTES = 1024 * 1024 * 1024  # [i]
# A reel lasts 3 seconds to 15 minutes [i].
VIDEO_MIN_MS = 3_000
VIDEO_MAX_MS = 15 * 60 * 1000
HASHTAG = re.compile(r"(?<!\w)#\w+")
MENTION = re.compile(r"(?<!\w)@[\w.]+")


def instagram_content_problems(parts: tuple[PartContent, ...]) -> list[str]:
    problems: list[str] = []
    if len(parts) > 1:
        problems.append(
            f"An Instagram post is one caption with its media; this post has {len(parts)} "
            "parts. Join them, or leave Instagram out of this post."
        )
    for part in parts[:1]:
        problems += _caption_problems(part.text) + _media_problems(part)
    return problems


def _caption_problems(text: str) -> list[str]:
    problems = []
    if len(text) > CAPTION_LIMIT:
        problems.append(
            f"Instagram captions take at most {CAPTION_LIMIT:,} characters; this one has "
            f"{len(text):,}. Shorten it by {len(text) - CAPTION_LIMIT:,}."
        )
    hashtags = len(HASHTAG.findall(text))
    if hashtags > MAX_HASHTAGS:
        problems.append(
            f"Instagram takes at most {MAX_HASHTAGS} hashtags; this caption has {hashtags}."
        )
    mentions = len(MENTION.findall(text))
    if mentions > MAX_MENTIONS:
        problems.append(
            f"Instagram takes at most {MAX_MENTIONS} @mentions; this caption has {mentions}."
        )
    return problems


def _media_problems(part: PartContent) -> list[str]:
    if not part.media:
        return ["Instagram posts need a photo or a video: add one, or leave Instagram out."]
    problems = []
    if len(part.media) > MAX_ITEMS:
        problems.append(
            f"An Instagram carousel holds at most {MAX_ITEMS} photos and videos; this post has "
            f"{len(part.media)}. Remove {len(part.media) - MAX_ITEMS}."
        )
    for media in part.media:
        if media.kind is MediaKind.VIDEO:
            problems += _video_problems(media)
        elif media.mime_type not in IMAGE_TYPES:
            problems.append(
                f"Instagram publishes JPEG photos only; {media} is {media.mime_type}. Save it "
                "as a JPEG."
            )
        elif media.size_bytes > IMAGE_MAX_BYTES:
            problems.append(f"{media} is larger than Instagram's 8 MB for a photo; shrink it.")
    return problems


def _video_problems(media) -> list[str]:
    if media.mime_type not in VIDEO_TYPES:
        return [f"Instagram takes MP4 or MOV videos; {media} is {media.mime_type}."]
    if media.size_bytes > VIDEO_MAX_BYTES:
        return [f"{media} is larger than the 1 GB Instagram takes; shorten it."]
    duration = media.duration_ms
    if duration is not None and not VIDEO_MIN_MS <= duration <= VIDEO_MAX_MS:
        return [
            f"Instagram reels last 3 seconds to 15 minutes; {media} lasts {duration / 1000:g} s."
        ]
    return []
