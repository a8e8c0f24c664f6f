"""What a Mastodon instance accepts, as pure functions of the content and the instance.

Each instance sets its own limits and says them in GET /api/v2/instance under
`configuration`. Kairos reads them when the account is connected and again with
its profile each day, and keeps them with the account's sign-in (`instance_configuration`
in its credentials), so validating needs no call: the account snapshot carries them.
Until they are known, Mastodon's defaults apply.

Length is Mastodon's StatusLengthValidator: grapheme clusters, every http(s) URL as
`characters_reserved_per_url`, a mention of a remote account (`@name@domain`) as its
local part (`@name`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import regex

from publishing.networks.base import Account, MediaFile, MediaKind, PartContent

MB = 1024 * 1024
URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
REMOTE_MENTION = re.compile(r"@(\w+)@[\w.-]+\w")
GRAPHEME = regex.compile(r"\X")
CONFIGURATION_KEY = "instance_configuration"


@dataclass(frozen=True)
class InstanceLimits:
    """The instance's `configuration` as far as posting goes (defaults: Mastodon 4.3's)."""

    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    image_size_limit: int = 16 * MB
    video_size_limit: int = 99 * MB
    description_limit: int = 1500
    supported_mime_types: tuple[str, ...] = (
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "video/mp4",
        "video/quicktime",
        "video/webm",
    )

    @classmethod
    def from_instance(cls, answer: Mapping[str, Any]) -> InstanceLimits:
        """From the answer to GET /api/v2/instance; what it leaves out keeps the default."""
        configuration = answer.get("configuration") or {}
        values = {
            **(configuration.get("statuses") or {}),
            **(configuration.get("media_attachments") or {}),
        }
        known = {field.name for field in fields(cls)}
        kept = {name: value for name, value in values.items() if name in known}
        if "supported_mime_types" in kept:
            kept["supported_mime_types"] = tuple(kept["supported_mime_types"])
        return cls(**kept)

    @classmethod
    def of(cls, account: Account) -> InstanceLimits:
        stored = account.credentials.get(CONFIGURATION_KEY)
        if not stored:
            return cls()
        values = json.loads(stored)
        values["supported_mime_types"] = tuple(values.get("supported_mime_types", ()))
        return cls(**values)

    def stored(self) -> str:
        """As kept in the account's credentials."""
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        return json.dumps({**values, "supported_mime_types": list(self.supported_mime_types)})


def status_length(text: str, *, characters_per_url: int) -> int:
    countable = URL.sub("\x01" * characters_per_url, text)
    countable = REMOTE_MENTION.sub(lambda match: f"@{match.group(1)}", countable)
    return len(GRAPHEME.findall(countable))


def mastodon_content_problems(*, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
    """What the account's instance would refuse in these parts, as sentences saying what
    to change."""
    limits = InstanceLimits.of(account)
    problems = []
    for number, part in enumerate(parts, start=1):
        if not part.text.strip() and not part.media:
            problems.append(f"Part {number} is empty; Mastodon needs text or media.")
        length = status_length(part.text, characters_per_url=limits.characters_reserved_per_url)
        if length > limits.max_characters:
            problems.append(
                f"Part {number} counts {length:,} of the instance's {limits.max_characters:,} "
                f"characters (links count {limits.characters_reserved_per_url}); shorten it by "
                f"{length - limits.max_characters:,} or split it into a thread."
            )
        problems += _media_problems(number, part.media, limits)
    return problems


def _media_problems(number: int, media: tuple[MediaFile, ...], limits: InstanceLimits) -> list[str]:
    problems = []
    moving = [asset for asset in media if asset.kind != MediaKind.IMAGE]
    if moving and len(media) > 1:
        problems.append(
            f"Part {number} has a {MediaKind(moving[0].kind).label.lower()} and "
            f"{len(media) - 1} other file(s); Mastodon takes a video or GIF alone. Move the "
            "others to another part."
        )
    elif len(media) > limits.max_media_attachments:
        problems.append(
            f"Part {number} has {len(media)} files; the instance takes at most "
            f"{limits.max_media_attachments}. Move {len(media) - limits.max_media_attachments} "
            "to another part."
        )
    for asset in media:
        kind = MediaKind(asset.kind)
        name = f"Part {number}'s {kind.label.lower()} {asset}"
        limit = limits.image_size_limit if kind == MediaKind.IMAGE else limits.video_size_limit
        if asset.size_bytes > limit:
            problems.append(
                f"{name} is {_megabytes(asset.size_bytes)} MB; the instance takes "
                f"{kind.label.lower()}s up to {_megabytes(limit)} MB. Compress it or choose a "
                "smaller file."
            )
        if asset.mime_type not in limits.supported_mime_types:
            problems.append(
                f"{name} is {asset.mime_type}, which the instance does not take. Convert it "
                "to JPEG, PNG or WebP (images) or MP4 (video)."
            )
        if len(asset.alt_text) > limits.description_limit:
            problems.append(
                f"{name} has {len(asset.alt_text):,} characters of alt text; the instance takes "
                f"up to {limits.description_limit:,}. Shorten it."
            )
    return problems


def _megabytes(size: int) -> str:
    # Rounded up, so a file just over the limit never reads as the limit itself.
    return f"{math.ceil(size * 10 / MB) / 10:.1f}"
