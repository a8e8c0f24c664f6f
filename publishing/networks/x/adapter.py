"""X API v2: publish posts and threads, and find them again for reconciliation.

What X's answers mean is decided in client.py; this module says what to ask.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from twitter_text import parse_tweet

from accounts.models import SocialAccount
from publishing.networks.base import (
    Lookup,
    NetworkAdapter,
    PartContent,
    PartPublished,
    Presence,
    PublishError,
    PublishRequest,
    PublishResult,
)
from publishing.networks.x.client import XClient

MAX_WEIGHTED_LENGTH = 280
# How far back a reconciliation reads the account's timeline, at 100 posts a page.
LOOKUP_PAGES = 5
URL_PATTERN = re.compile(r"https?://\S+")


class XAdapter(NetworkAdapter):
    network = SocialAccount.Network.X

    def __init__(self) -> None:
        self.client = XClient()

    # --- The interface ------------------------------------------------------------

    def validate(self, *, account: SocialAccount, parts: tuple[PartContent, ...]) -> list[str]:
        problems = []
        for number, part in enumerate(parts, start=1):
            if part.media:
                problems.append(
                    f"Part {number} has media; Kairos cannot upload media to X yet. "
                    "Remove it or publish to another network."
                )
            if not part.text.strip():
                problems.append(f"Part {number} is empty; X needs text.")
                continue
            weighted = parse_tweet(part.text).weightedLength
            if weighted > MAX_WEIGHTED_LENGTH:
                problems.append(
                    f"Part {number} counts {weighted} of X's {MAX_WEIGHTED_LENGTH} characters "
                    "(links count 23, emoji and CJK count 2); shorten it by "
                    f"{weighted - MAX_WEIGHTED_LENGTH} or split it into a thread."
                )
        return problems

    def publish(
        self, request: PublishRequest, *, on_part_published: PartPublished
    ) -> PublishResult:
        token = self.client.token(request.account)
        part_ids = list(request.published_part_ids)
        for index, part in enumerate(request.parts):
            if index < len(part_ids):
                continue
            body: dict[str, Any] = {"text": part.text}
            if part_ids:
                body["reply"] = {"in_reply_to_tweet_id": part_ids[-1]}
            answer = self.client.call(
                "POST", "/2/tweets", token=token, account=request.account, json=body
            )
            part_ids.append(answer["data"]["id"])
            on_part_published(index, part_ids[-1])
        return PublishResult(
            external_id=part_ids[0],
            url=self.post_url(account=request.account, external_id=part_ids[0]),
            part_ids=tuple(part_ids),
        )

    def find_part(self, request: PublishRequest, *, index: int, since: datetime) -> Lookup:
        """Read the account's posts since `since` and look for the part's text.

        X has no idempotency key, so text is what we match on (with links
        normalised: X rewrites them to t.co). A reply must also answer the part
        before it, so the same text posted elsewhere is not mistaken for ours.
        """
        account = request.account
        wanted = _comparable(request.parts[index].text)
        reply_to = request.published_part_ids[-1] if index else None
        params: dict[str, Any] = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": 100,
            "tweet.fields": "created_at,referenced_tweets",
        }
        try:
            token = self.client.token(account)
            for _ in range(LOOKUP_PAGES):
                page = self.client.call(
                    "GET",
                    f"/2/users/{account.external_id}/tweets",
                    token=token,
                    account=account,
                    params=params,
                    endpoint="timeline",
                )
                for post in page.get("data", []):
                    if _comparable(post["text"]) == wanted and _replies_to(post, reply_to):
                        return Lookup(presence=Presence.FOUND, external_id=post["id"])
                next_token = page.get("meta", {}).get("next_token")
                if not next_token:
                    return Lookup(presence=Presence.ABSENT)
                params["pagination_token"] = next_token
        except PublishError as error:
            return Lookup(presence=Presence.UNKNOWN, reason=f"X answered: {error.message}")
        return Lookup(
            presence=Presence.UNKNOWN,
            reason=f"the account posted more than {LOOKUP_PAGES * 100} times since the attempt",
        )

    def post_url(self, *, account: SocialAccount, external_id: str) -> str:
        return f"{settings.X_WEB_URL}/{account.handle}/status/{external_id}"


def _comparable(text: str) -> str:
    """Text as X shows it back: entities unescaped, links stand for any link."""
    return URL_PATTERN.sub("<link>", html.unescape(text)).strip()


def _replies_to(post: dict, reply_to: str | None) -> bool:
    replied = [
        ref["id"] for ref in post.get("referenced_tweets", []) if ref.get("type") == "replied_to"
    ]
    return replied == ([reply_to] if reply_to else [])
