"""What a Facebook Page refuses in a post, as sentences saying what to change (pure).

Facts from reference/networks.md (Facebook Pages); `[i]` where the sources disagree.
"""

from __future__ import annotations

from publishing.networks.base import MediaKind, PartContent

# The longest message a Page post takes [i].
TEXT_LIMIT = 63_206
# Photos attached to one post (unpublished photos + attached_media) [inf].
MAX_PHOTOS = 10
# Photos Facebook accepts by URL, and their size [i].
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
# A Page video: at most 10 GB (larger ones than FACEBOOK_RESUMABLE_VIDEO_BYTES go up in
# the resumable upload's chunks) and 240 minutes [i].
VIDEO_MAX_BYTES = 10 * 1024 * 1024 * 1024
VIDEO_MAX_MS = 240 * 60 * 1000


def facebook_content_problems(parts: tuple[PartContent, ...]) -> list[str]:
    problems: list[str] = []
    if len(parts) > 1:
        problems.append(
            f"A Facebook Page post is one part; this post has {len(parts)}. Join the parts "
            "into one, or leave the Facebook Page out of this post."
        )
    for part in parts[:1]:
        problems += _part_problems(part)
    return problems


def _part_problems(part: PartContent) -> list[str]:
    problems: list[str] = []
    if not part.text.strip() and not part.media:
        problems.append("A Facebook post needs words, a photo or a video.")
    if len(part.text) > TEXT_LIMIT:
        problems.append(
            f"Facebook takes at most {TEXT_LIMIT:,} characters; this text has "
            f"{len(part.text):,}. Shorten it by {len(part.text) - TEXT_LIMIT:,}."
        )
    videos = [media for media in part.media if media.kind is MediaKind.VIDEO]
    photos = [media for media in part.media if media.kind is not MediaKind.VIDEO]
    if (videos and photos) or len(videos) > 1:
        problems.append(
            "A Facebook post has one video alone, or photos: post the video separately."
        )
    if len(photos) > MAX_PHOTOS:
        problems.append(
            f"Kairos posts at most {MAX_PHOTOS} photos to Facebook at once; this post has "
            f"{len(photos)}. Remove {len(photos) - MAX_PHOTOS}."
        )
    for media in photos:
        if media.mime_type not in PHOTO_TYPES:
            problems.append(f"Facebook does not take {media} ({media.mime_type}) as a photo.")
        elif media.size_bytes > PHOTO_MAX_BYTES:
            problems.append(f"{media} is larger than Facebook's 10 MB for a photo; shrink it.")
    for media in videos:
        if media.mime_type not in VIDEO_TYPES:
            problems.append(f"Facebook takes MP4 or MOV videos; {media} is {media.mime_type}.")
        elif media.size_bytes > VIDEO_MAX_BYTES:
            problems.append(f"{media} is larger than the 10 GB Facebook takes; shorten it.")
        if media.duration_ms is not None and media.duration_ms > VIDEO_MAX_MS:
            problems.append(
                f"{media} lasts {media.duration_ms / 60_000:.0f} minutes; Facebook takes "
                "videos of at most 240 minutes. Shorten it."
            )
    return problems
