"""X API v2: publish posts and threads with their media, delete them, and find them
again for reconciliation.

What X's answers mean is decided in client.py; what X accepts, in validation.py;
how files get there, in media.py; connecting and keeping tokens fresh, in
oauth.py; a post's numbers, in metrics.py. This module says what to ask.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from publishing.networks.base import (
    Account,
    AccountStore,
    Connection,
    ErrorKind,
    Lookup,
    MediaUploaded,
    MetricsReading,
    NetworkAdapter,
    PartContent,
    PartPublished,
    Presence,
    Profile,
    PublishError,
    PublishRequest,
    PublishResult,
)
from publishing.networks.x.client import XClient
from publishing.networks.x.media import MediaUploader
from publishing.networks.x.metrics import x_metrics_fetch
from publishing.networks.x.oauth import (
    PROFILE_FIELDS,
    REFRESH_BEFORE,
    x_access_token,
    x_connect_finish,
    x_connect_start,
    x_profile_from_answer,
)
from publishing.networks.x.validation import (
    IDENTICAL_TEXT_WINDOW,
    max_weighted_length,
    x_comparable_texts,
    x_content_problems,
    x_weighted_length,
)

# How far back a reconciliation reads the account's timeline, at 100 posts a page.
LOOKUP_PAGES = 5
URL_PATTERN = re.compile(r"https?://\S+")


class XAdapter(NetworkAdapter):
    network = "x"
    label = "X"
    has_metrics = True
    has_profile = True
    connects = True
    refresh_before = REFRESH_BEFORE
    # X forbids the same words from several accounts within this much of each other
    # (publishing/crosspost.py looks across posts and accounts).
    identical_text_window = IDENTICAL_TEXT_WINDOW

    def __init__(self) -> None:
        self.client = XClient()

    # --- The interface ------------------------------------------------------------

    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        return x_content_problems(account=account, parts=parts)

    def text_length(self, *, account: Account, text: str) -> int:
        return x_weighted_length(text)

    def text_limit(self, *, account: Account) -> int | None:
        return max_weighted_length(account)

    def comparable_texts(self, parts: tuple[PartContent, ...]) -> frozenset[str]:
        return x_comparable_texts(parts)

    def publish(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        token = self.client.token(request.account, store)
        part_ids = list(request.published_part_ids)
        uploader = MediaUploader(
            client=self.client,
            account=request.account,
            store=store,
            token=token,
            kept=request.media_uploads,
            on_uploaded=on_media_uploaded,
        )
        remaining = list(enumerate(request.parts))[len(part_ids) :]
        # Every file of the remaining parts is on X before the first of them is posted,
        # so a file X cannot take stops the thread before it starts, not halfway.
        media_ids = {index: uploader.media_ids(part.media) for index, part in remaining}
        for index, part in remaining:
            body: dict[str, Any] = {}
            if part.text:
                body["text"] = part.text
            if media_ids[index]:
                body["media"] = {"media_ids": media_ids[index]}
            if part_ids:
                body["reply"] = {"in_reply_to_tweet_id": part_ids[-1]}
            answer = self.client.call(
                "POST", "/2/tweets", token=token, account=request.account, store=store, json=body
            )
            part_ids.append(answer["data"]["id"])
            on_part_published(index, part_ids[-1])
        return PublishResult(
            external_id=part_ids[0],
            url=self.post_url(account=request.account, external_id=part_ids[0]),
            part_ids=tuple(part_ids),
        )

    def delete(self, *, account: Account, external_id: str, store: AccountStore) -> None:
        token = self.client.token(account, store)
        try:
            answer = self.client.call(
                "DELETE",
                f"/2/tweets/{external_id}",
                token=token,
                account=account,
                store=store,
                endpoint="delete",
            )
        except PublishError as error:
            if error.http_status == 404:
                return  # Already gone: deleted on X itself, or by an earlier try.
            raise
        if not answer.get("data", {}).get("deleted"):
            raise PublishError(
                kind=ErrorKind.UNKNOWN,
                message=f"X answered without deleting post {external_id}; check the account "
                "and try again.",
            )

    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
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
            token = self.client.token(account, store)
            for _ in range(LOOKUP_PAGES):
                page = self.client.call(
                    "GET",
                    f"/2/users/{account.external_id}/tweets",
                    token=token,
                    account=account,
                    store=store,
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

    def post_url(self, *, account: Account, external_id: str) -> str:
        return f"{settings.X_WEB_URL}/{account.handle}/status/{external_id}"

    def credentials_fresh(self, *, account: Account, store: AccountStore) -> None:
        x_access_token(account=account, store=store)

    def metrics_fetch(
        self, *, account: Account, external_ids: Sequence[str], store: AccountStore
    ) -> MetricsReading:
        return x_metrics_fetch(
            client=self.client, account=account, store=store, external_ids=external_ids
        )

    def profile_fetch(self, *, account: Account, store: AccountStore) -> Profile:
        answer = self.client.call(
            "GET",
            "/2/users/me",
            token=self.client.token(account, store),
            account=account,
            store=store,
            params={"user.fields": PROFILE_FIELDS},
            endpoint="me",
        )
        return x_profile_from_answer(answer)

    def connect_start(self, *, state_for: Callable[[str], str]) -> str:
        return x_connect_start(state_for=state_for)

    def connect_finish(self, *, code: str, verifier: str) -> Connection:
        return x_connect_finish(code=code, verifier=verifier)


def _comparable(text: str) -> str:
    """Text as X shows it back: entities unescaped, links stand for any link."""
    return URL_PATTERN.sub("<link>", html.unescape(text)).strip()


def _replies_to(post: dict, reply_to: str | None) -> bool:
    replied = [
        ref["id"] for ref in post.get("referenced_tweets", []) if ref.get("type") == "replied_to"
    ]
    return replied == ([reply_to] if reply_to else [])
