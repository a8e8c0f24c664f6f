"""What LinkedIn refuses in a post, as sentences saying what to change (pure), and the
"little" text format Kairos writes the commentary in.

LinkedIn reads `commentary` as "little" text: `\\ | { } @ [ ] ( ) < > # * _ ~` are
reserved, and an unescaped one does not fail the post; LinkedIn keeps the text only up
to it. Kairos escapes every reserved character with a backslash, except a `#` that
begins a hashtag (`#word`, which LinkedIn links), so the words published are the words
written. The backslashes count towards the 3,000 characters.
Facts from reference/networks.md (LinkedIn); `[i]` where the sources disagree.
"""

from __future__ import annotations

import re

from publishing.networks.base import MediaFile, MediaKind, PartContent

COMMENTARY_LIMIT = 3000
RESERVED = frozenset("\\|{}@[]()<>#*_~")
HASHTAG = re.compile(r"#\w")
# Images in one post: one as media, 2 to 20 as multiImage [i].
MAX_IMAGES = 20
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
# A post's video (the Videos API's specifications [i]): one MP4, alone, of 75 KB to
# 500 MB, lasting 3 seconds to 30 minutes.
VIDEO_TYPES = frozenset({"video/mp4"})
VIDEO_MIN_BYTES = 75 * 1024
VIDEO_MAX_BYTES = 500 * 1024 * 1024
VIDEO_MIN_MS = 3_000
VIDEO_MAX_MS = 30 * 60 * 1000


def little_text(text: str) -> str:
    """`text` as LinkedIn's commentary: reserved characters escaped, hashtags kept."""
    escaped = []
    for index, char in enumerate(text):
        hashtag = char == "#" and HASHTAG.match(text, index)
        escaped.append(f"\\{char}" if char in RESERVED and not hashtag else char)
    return "".join(escaped)


def commentary_length(text: str) -> int:
    """How long LinkedIn counts `text` against its 3,000: as sent, escapes included."""
    return len(little_text(text))


def linkedin_content_problems(parts: tuple[PartContent, ...]) -> list[str]:
    problems: list[str] = []
    if len(parts) > 1:
        problems.append(
            f"A LinkedIn post is one part; this post has {len(parts)}. Join the parts into one, "
            "or leave LinkedIn out of this post."
        )
    for part in parts[:1]:
        problems += _part_problems(part)
    return problems


def _part_problems(part: PartContent) -> list[str]:
    problems: list[str] = []
    if not part.text.strip() and not part.media:
        problems.append("A LinkedIn post needs words, an image or a video.")
    length = commentary_length(part.text)
    if length > COMMENTARY_LIMIT:
        extra = length - len(part.text)
        escapes = f" (with the {extra:,} backslashes Kairos adds before ( ) [ ] and the like)"
        problems.append(
            f"LinkedIn takes at most {COMMENTARY_LIMIT:,} characters; this text has {length:,}"
            f"{escapes if extra else ''}. Shorten it by {length - COMMENTARY_LIMIT:,}."
        )
    videos = [media for media in part.media if media.kind is MediaKind.VIDEO]
    images = [media for media in part.media if media.kind is not MediaKind.VIDEO]
    if len(videos) > 1 or (videos and images):
        problems.append(
            "A LinkedIn post has one video alone, or images: post the video separately."
        )
    for media in videos:
        problems += _video_problems(media)
    if len(images) > MAX_IMAGES:
        problems.append(
            f"LinkedIn takes at most {MAX_IMAGES} images in a post; this post has {len(images)}. "
            f"Remove {len(images) - MAX_IMAGES}."
        )
    for media in images:
        if media.mime_type not in IMAGE_TYPES:
            problems.append(
                f"LinkedIn takes JPEG, PNG or GIF images; {media} is {media.mime_type}."
            )
    return problems


def _video_problems(media: MediaFile) -> list[str]:
    if media.mime_type not in VIDEO_TYPES:
        return [f"LinkedIn takes MP4 videos; {media} is {media.mime_type}."]
    problems = []
    if media.size_bytes < VIDEO_MIN_BYTES:
        problems.append(f"{media} is smaller than the 75 KB LinkedIn takes for a video.")
    elif media.size_bytes > VIDEO_MAX_BYTES:
        problems.append(
            f"{media} is larger than the 500 MB LinkedIn takes for a video; shorten or compress it."
        )
    seconds = None if media.duration_ms is None else media.duration_ms / 1000
    if seconds is not None and media.duration_ms < VIDEO_MIN_MS:
        problems.append(f"{media} lasts {seconds:.1f} s; LinkedIn takes videos of 3 s or more.")
    elif seconds is not None and media.duration_ms > VIDEO_MAX_MS:
        problems.append(
            f"{media} lasts {seconds / 60:.1f} minutes; LinkedIn takes videos of at most 30 "
            "minutes. Shorten it."
        )
    return problems
