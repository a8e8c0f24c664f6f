"""What Bluesky refuses in a post, said before anything is sent (networks.md, Bluesky).

A post record's text is at most 300 graphemes and 3,000 bytes of UTF-8; it may be empty
when the post has a file. A post carries up to four images of at most 1,000,000 bytes
each, or one MP4 video of at most 100 MB, never both. Kairos does not post animated
GIFs to Bluesky (Bluesky's app turns them into video first).
"""

from __future__ import annotations

from publishing.networks.base import Account, MediaFile, MediaKind, PartContent
from publishing.networks.bluesky.richtext import graphemes

MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MAX_VIDEO_BYTES = 100_000_000


def bluesky_content_problems(*, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
    problems = []
    for number, part in enumerate(parts, start=1):
        if not part.text.strip() and not part.media:
            problems.append(f"Part {number} is empty; write something or attach an image.")
        length = graphemes(part.text)
        if length > MAX_GRAPHEMES:
            problems.append(
                f"Part {number} has {length} of Bluesky's {MAX_GRAPHEMES} characters; shorten "
                f"it by {length - MAX_GRAPHEMES} or split it into a thread."
            )
        size = len(part.text.encode())
        if size > MAX_TEXT_BYTES:
            problems.append(
                f"Part {number} takes {size} of Bluesky's {MAX_TEXT_BYTES} bytes (emoji and "
                "accented letters take several); shorten it or split it into a thread."
            )
        problems.extend(_media_problems(number, part))
    return problems


def _media_problems(number: int, part: PartContent) -> list[str]:
    videos = [media for media in part.media if media.kind is MediaKind.VIDEO]
    if videos:
        return _video_problems(number, part, videos[0])
    problems = []
    if len(part.media) > MAX_IMAGES:
        problems.append(
            f"Part {number} has {len(part.media)} images; Bluesky takes at most {MAX_IMAGES} "
            "a post. Move the others to a later part of the thread."
        )
    for media in part.media:
        if media.kind is not MediaKind.IMAGE:
            problems.append(
                f"Part {number}: Kairos cannot post a {media.kind.label} ({media}) to Bluesky; "
                "attach it as an MP4 video or a still image instead."
            )
        elif media.mime_type not in IMAGE_TYPES:
            problems.append(
                f"Part {number}: Bluesky takes JPEG, PNG or WebP images, and {media} is "
                f"{media.mime_type}; convert it."
            )
        elif media.size_bytes > MAX_IMAGE_BYTES:
            problems.append(
                f"Part {number}: {media} is {media.size_bytes:,} bytes and Bluesky takes images "
                f"of at most {MAX_IMAGE_BYTES:,}; make it smaller."
            )
    return problems


def _video_problems(number: int, part: PartContent, video: MediaFile) -> list[str]:
    if len(part.media) > 1:
        return [
            f"Part {number} has a video and other files; a Bluesky post carries one video "
            "alone. Move the others to another part of the thread."
        ]
    if video.mime_type != "video/mp4":
        return [f"Part {number}: Bluesky takes MP4 videos, and {video} is {video.mime_type}."]
    if video.size_bytes > MAX_VIDEO_BYTES:
        return [
            f"Part {number}: {video} is {video.size_bytes:,} bytes and Bluesky takes videos of "
            f"at most {MAX_VIDEO_BYTES:,}; make it shorter or smaller."
        ]
    return []
