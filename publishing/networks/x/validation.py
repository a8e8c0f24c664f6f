"""What X accepts: weighted length and media per post, as pure functions of the content.

Length follows twitter-text config v3 (platforms.md §4) through `parse_tweet`,
which NFC-normalizes first, counts each URL as 23 and each emoji sequence and
CJK character as 2. Media rules are platforms.md §3.2. Sizes are in binary
megabytes, as X's own refusal counts them ("File size exceeds 5242880 bytes").

X also forbids the same words from several accounts at once; which texts count
as the same is `x_comparable_texts`, and the look across posts and accounts is
Kairos's (publishing/crosspost.py), since it needs every plan and job.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import timedelta

from twitter_text import parse_tweet
from twitter_text.has_invalid_characters import has_invalid_characters

from publishing.networks.base import Account, MediaFile, MediaKind, PartContent

STANDARD_MAX_WEIGHTED_LENGTH = 280
# Posts up to 25,000 characters can be made through the API by subscribers
# (changelog Aug 2024; that it is subscribers only is inferred, platforms.md §4).
LONG_POST_MAX_WEIGHTED_LENGTH = 25_000
LONG_POST_SUBSCRIPTIONS = frozenset({"Premium", "PremiumPlus"})

MB = 1024 * 1024
MAX_IMAGES = 4
MAX_BYTES = {
    MediaKind.IMAGE: 5 * MB,
    MediaKind.GIF: 15 * MB,
    MediaKind.VIDEO: 512 * MB,
}
MEDIA_TYPES = {
    MediaKind.IMAGE: frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    MediaKind.GIF: frozenset({"image/gif"}),
    MediaKind.VIDEO: frozenset({"video/mp4", "video/quicktime"}),
}
ALT_TEXT_MAX_LENGTH = 1000

# X's automation rules forbid posting the same content from several accounts, and
# its spam filter is not documented, so "at the same time" is our choice: five
# minutes either side covers dispatch lag and a job's first two retries (1 and 2
# minutes of backoff), while the same announcement an hour apart stays allowed.
IDENTICAL_TEXT_WINDOW = timedelta(minutes=5)


def max_weighted_length(account: Account) -> int:
    if account.subscription_type in LONG_POST_SUBSCRIPTIONS:
        return LONG_POST_MAX_WEIGHTED_LENGTH
    return STANDARD_MAX_WEIGHTED_LENGTH


def x_weighted_length(text: str) -> int:
    """The length X counts: links 23, emoji and CJK 2, after NFC normalization."""
    return parse_tweet(text).weightedLength


def x_content_problems(*, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
    """What X would refuse in these parts for this account, as sentences saying what to change."""
    limit = max_weighted_length(account)
    problems = []
    for number, part in enumerate(parts, start=1):
        if not part.text.strip() and not part.media:
            problems.append(f"Part {number} is empty; X needs text or media.")
        if part.text:
            problems += _text_problems(number, part.text, limit=limit)
        problems += _media_problems(number, part.media)
    return problems


def _text_problems(number: int, text: str, *, limit: int) -> list[str]:
    problems = []
    weighted = x_weighted_length(text)
    if weighted > limit:
        problems.append(
            f"Part {number} counts {weighted:,} of X's {limit:,} characters (links count 23, "
            f"emoji and CJK count 2); shorten it by {weighted - limit:,} or split it into a "
            "thread."
        )
    if has_invalid_characters(unicodedata.normalize("NFC", text)):
        problems.append(
            f"Part {number} contains an invisible character X refuses (U+FEFF, U+FFFE or "
            "U+FFFF, often pasted from another program); retype the text around it."
        )
    return problems


def _media_problems(number: int, media: tuple[MediaFile, ...]) -> list[str]:
    problems = []
    kinds = [asset.kind for asset in media]
    singles = [kind for kind in kinds if kind != MediaKind.IMAGE]
    if singles and len(media) > 1:
        problems.append(
            f"Part {number} has a {MediaKind(singles[0]).label.lower()} and "
            f"{len(media) - 1} other file(s); X takes one GIF alone, one video alone, or up to "
            f"{MAX_IMAGES} images. Move the others to another part."
        )
    elif len(media) > MAX_IMAGES:
        problems.append(
            f"Part {number} has {len(media)} images; X takes at most {MAX_IMAGES}. Move "
            f"{len(media) - MAX_IMAGES} to another part."
        )
    for asset in media:
        kind = MediaKind(asset.kind)
        name = f"Part {number}'s {kind.label.lower()} {asset}"
        if asset.size_bytes > MAX_BYTES[kind]:
            problems.append(
                f"{name} is {_megabytes(asset.size_bytes)} MB; X takes {kind.label.lower()}s up to "
                f"{MAX_BYTES[kind] // MB} MB. Compress it or choose a smaller file."
            )
        if asset.mime_type not in MEDIA_TYPES[kind]:
            accepted = ", ".join(sorted(MEDIA_TYPES[kind]))
            problems.append(
                f"{name} is {asset.mime_type}; X takes {kind.label.lower()}s as {accepted}. "
                "Convert it."
            )
        if len(asset.alt_text) > ALT_TEXT_MAX_LENGTH:
            problems.append(
                f"{name} has {len(asset.alt_text):,} characters of alt text; X takes up to "
                f"{ALT_TEXT_MAX_LENGTH:,}. Shorten it."
            )
    return problems


def _megabytes(size: int) -> str:
    # Rounded up, so a file just over the limit never reads as the limit itself.
    return f"{math.ceil(size * 10 / MB) / 10:.1f}"


def x_comparable_texts(parts: tuple[PartContent, ...]) -> frozenset[str]:
    """The texts X would take as the same words: NFC-normalized, spaces collapsed."""
    return frozenset(
        " ".join(unicodedata.normalize("NFC", part.text).split())
        for part in parts
        if part.text.strip()
    )
