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

from publishing.networks.base import MediaKind, PartContent

COMMENTARY_LIMIT = 3000
RESERVED = frozenset("\\|{}@[]()<>#*_~")
HASHTAG = re.compile(r"#\w")
# Images in one post: one as media, 2 to 20 as multiImage [i].
MAX_IMAGES = 20
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})


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
        problems.append("A LinkedIn post needs words or an image.")
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
    if videos:
        problems.append(
            "Kairos posts text and images to LinkedIn, not videos yet: remove the video, or "
            "leave LinkedIn out of this post."
        )
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
