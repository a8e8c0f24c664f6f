"""Bluesky's rich text: a post's length in graphemes, and its links, mentions and tags as
facets over UTF-8 byte offsets.

Bluesky does not find links in the text itself: a URL without a link facet is plain
text, and an @handle without a mention facet notifies no one (networks.md). Facets
index bytes of the UTF-8 text, end exclusive. Detection follows Bluesky's own client
(@atproto/api RichText.detectFacets) in spirit: links start with http(s)://, mentions
are @ and a domain-shaped handle, tags are # and a word that is not all digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import regex

LINK = re.compile(r"(?:^|(?<=[\s(]))(https?://[^\s]+)", re.IGNORECASE)
MENTION = re.compile(
    r"(?:^|(?<=[\s(]))@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z][a-zA-Z0-9-]*)"
)
TAG = regex.compile(r"(?:^|(?<=\s))[#＃]([^\s#＃]+)")
# Punctuation that ends a sentence rather than a link or a tag.
TRAILING = ".,;:!?\"')]}"
MAX_TAG_GRAPHEMES = 64


def graphemes(text: str) -> int:
    """What a person sees as characters: an emoji with its modifiers is one."""
    return len(regex.findall(r"\X", text))


@dataclass(frozen=True)
class Span:
    start: int  # character offsets into the text
    end: int
    kind: str  # "link", "mention" or "tag"
    value: str  # the URI, the handle or the tag


def spans(text: str) -> list[Span]:
    """Links, mentions and tags in the text, in order, none overlapping."""
    found: list[Span] = []
    for pattern, kind in ((LINK, "link"), (MENTION, "mention")):
        for match in pattern.finditer(text):
            value = match.group(1).rstrip(TRAILING) if kind == "link" else match.group(1)
            start = match.start(1) - (1 if kind == "mention" else 0)
            found.append(Span(start, match.start(1) + len(value), kind, value))
    for match in TAG.finditer(text):
        value = match.group(1).rstrip(TRAILING)
        if value and not value.isdigit() and graphemes(value) <= MAX_TAG_GRAPHEMES:
            found.append(Span(match.start(), match.start(1) + len(value), "tag", value))
    found.sort(key=lambda span: span.start)
    kept: list[Span] = []
    for span in found:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def handles(text: str) -> set[str]:
    return {span.value.lower() for span in spans(text) if span.kind == "mention"}


def facets(text: str, *, dids: Mapping[str, str]) -> list[dict]:
    """The post's facets; a mention whose handle has no DID in `dids` stays plain text."""
    result = []
    for span in spans(text):
        if span.kind == "link":
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": span.value}
        elif span.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": span.value}
        else:
            did = dids.get(span.value.lower())
            if not did:
                continue
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        result.append(
            {
                "index": {
                    "byteStart": len(text[: span.start].encode()),
                    "byteEnd": len(text[: span.end].encode()),
                },
                "features": [feature],
            }
        )
    return result
