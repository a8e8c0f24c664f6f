"""Mastodon: publish statuses and threads with their media on the account's own instance,
delete them, and find them again for reconciliation.

What the instance's answers mean is decided in client.py; what it accepts, in
validation.py; how files get there, in media.py; connecting, in oauth.py; a post's
numbers, in metrics.py. This module says what to ask.

Every status is sent with an Idempotency-Key, the job's key and the part's index:
for an hour the instance answers a repeat with the status it already made, so a
retry of an attempt that did get through cannot post twice.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from publishing.networks.base import (
    Account,
    AccountStore,
    AppRegistry,
    Connection,
    Credentials,
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
from publishing.networks.mastodon.client import MastodonClient, instance_url
from publishing.networks.mastodon.media import MediaUploader
from publishing.networks.mastodon.metrics import mastodon_metrics_fetch
from publishing.networks.mastodon.oauth import (
    mastodon_connect_finish,
    mastodon_connect_start,
    mastodon_profile_from_answer,
)
from publishing.networks.mastodon.validation import (
    CONFIGURATION_KEY,
    URL,
    InstanceLimits,
    mastodon_content_problems,
    status_length,
)

# How far back a reconciliation reads the account's statuses, at 40 a page.
LOOKUP_PAGES = 5
PAGE_SIZE = 40
# A status id is the millisecond it was made, shifted 16 bits (Mastodon's snowflake),
# so "since the attempt began" is an id. Read from a little earlier, for clock skew.
CLOCK_SKEW = timedelta(minutes=5)


class MastodonAdapter(NetworkAdapter):
    network = "mastodon"
    label = "Mastodon"
    has_metrics = True
    has_profile = True
    connects = True
    asks_server = True
    # Mastodon's sign-ins do not expire: refresh_before stays None.

    def __init__(self) -> None:
        self.client = MastodonClient()

    # --- The interface ------------------------------------------------------------

    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        return mastodon_content_problems(account=account, parts=parts)

    def text_length(self, *, account: Account, text: str) -> int:
        per_url = InstanceLimits.of(account).characters_reserved_per_url
        return status_length(text, characters_per_url=per_url)

    def text_limit(self, *, account: Account) -> int | None:
        return InstanceLimits.of(account).max_characters

    def publish(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        account = request.account
        part_ids = list(request.published_part_ids)
        uploader = MediaUploader(
            client=self.client,
            account=account,
            store=store,
            kept=request.media_uploads,
            on_uploaded=on_media_uploaded,
        )
        remaining = list(enumerate(request.parts))[len(part_ids) :]
        # Every file of the remaining parts is on the instance before the first of them
        # is posted, so a file it cannot take stops the thread before it starts.
        media_ids = {index: uploader.media_ids(part.media) for index, part in remaining}
        for index, _ in remaining:
            status = self._status_create(
                request,
                index=index,
                media_ids=media_ids[index],
                reply_to=part_ids[-1] if part_ids else None,
                store=store,
            )
            part_ids.append(status["id"])
            on_part_published(index, status["id"])
        return PublishResult(
            external_id=part_ids[0],
            url=self.post_url(account=account, external_id=part_ids[0]),
            part_ids=tuple(part_ids),
        )

    def delete(self, *, account: Account, external_id: str, store: AccountStore) -> None:
        try:
            self.client.call(
                "DELETE",
                f"/api/v1/statuses/{external_id}",
                account=account,
                store=store,
                endpoint="delete",
                scope="write:statuses",
            )
        except PublishError as error:
            if error.http_status == 404:
                return  # Already gone: deleted on the instance itself, or by an earlier try.
            raise

    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        """Read the account's statuses since `since` for the part's text, replying to the
        part before it.

        A look-up only: it never sends the status again, even with its Idempotency-Key.
        A status whose creation is still under way on the instance has no key stored
        yet (mastodon#21840), so a second send could make a second status. When the
        look-up finds nothing, the job is retried, with the same key, by the ordinary
        path and its checks (the missed-post window among them).
        """
        try:
            return self._timeline_lookup(request, index=index, since=since, store=store)
        except PublishError as error:
            return Lookup(presence=Presence.UNKNOWN, reason=f"Mastodon answered: {error.message}")

    def post_url(self, *, account: Account, external_id: str) -> str:
        # The handle is name@instance; the instance's own pages use the name alone.
        username = account.handle.split("@")[0]
        return f"{instance_url(account)}/@{username}/{external_id}"

    def metrics_fetch(
        self, *, account: Account, external_ids: Sequence[str], store: AccountStore
    ) -> MetricsReading:
        return mastodon_metrics_fetch(
            client=self.client, account=account, store=store, external_ids=external_ids
        )

    def profile_fetch(self, *, account: Account, store: AccountStore) -> Profile:
        """The account's profile; the instance's limits are read again with it, and kept
        with the sign-in when they changed, so validation follows the instance."""
        answer = self.client.call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            account=account,
            store=store,
            endpoint="me",
            scope="profile",
        )
        instance = self.client.call(
            "GET", "/api/v2/instance", account=account, store=store, endpoint="instance"
        )
        stored = InstanceLimits.from_instance(instance).stored()
        if account.credentials.get(CONFIGURATION_KEY) != stored:
            store.credentials_renew(account=account, renew=_with_configuration(stored))
        return mastodon_profile_from_answer(answer, instance=instance_url(account))

    def connect_start(
        self, *, state_for: Callable[[str], str], server: str = "", apps: AppRegistry | None = None
    ) -> str:
        return mastodon_connect_start(state_for=state_for, server=server, apps=apps)

    def connect_finish(
        self, *, code: str, verifier: str, apps: AppRegistry | None = None
    ) -> Connection:
        return mastodon_connect_finish(code=code, secret=verifier, apps=apps)

    # --- Steps --------------------------------------------------------------------

    def _status_create(
        self,
        request: PublishRequest,
        *,
        index: int,
        media_ids: list[str],
        reply_to: str | None,
        store: AccountStore,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"status": request.parts[index].text, "visibility": "public"}
        if media_ids:
            body["media_ids"] = media_ids
        if reply_to:
            body["in_reply_to_id"] = reply_to
        try:
            return self.client.call(
                "POST",
                "/api/v1/statuses",
                account=request.account,
                store=store,
                endpoint="post",
                scope="write:statuses",
                json=body,
                headers={"Idempotency-Key": idempotency_key(request, index)},
            )
        except PublishError as error:
            # The one thing a new status can be "not found" for is the post it replies to.
            if error.http_status == 404 and reply_to:
                raise replace(
                    error,
                    kind=ErrorKind.VALIDATION,
                    message=f"Part {index + 1} answers part {index} (status {reply_to}), which "
                    "is no longer on Mastodon, so the thread cannot go on. Publish the rest as "
                    "a new post.",
                ) from None
            raise

    def _timeline_lookup(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        account = request.account
        wanted = _comparable(request.parts[index].text)
        reply_to = request.published_part_ids[index - 1] if index else None
        params: dict[str, Any] = {
            "limit": PAGE_SIZE,
            "exclude_reblogs": "true",
            "since_id": str(int((since - CLOCK_SKEW).timestamp() * 1000) << 16),
        }
        for _ in range(LOOKUP_PAGES):
            page = self.client.call(
                "GET",
                f"/api/v1/accounts/{account.external_id}/statuses",
                account=account,
                store=store,
                endpoint="timeline",
                scope="read:statuses",
                params=params,
            )
            for status in page:
                if (
                    _comparable(_plain_text(status.get("content", ""))) == wanted
                    and status.get("in_reply_to_id") == reply_to
                ):
                    return Lookup(presence=Presence.FOUND, external_id=status["id"])
            if len(page) < PAGE_SIZE:
                return Lookup(presence=Presence.ABSENT)
            params["max_id"] = page[-1]["id"]
        return Lookup(
            presence=Presence.UNKNOWN,
            reason=f"the account posted more than {LOOKUP_PAGES * PAGE_SIZE} times since the "
            "attempt",
        )


def idempotency_key(request: PublishRequest, index: int) -> str:
    """The part's key: the job's, stable across attempts, and the part's place in it."""
    return f"{request.idempotency_key}:{index}"


def _with_configuration(stored: str) -> Callable[[Account], Credentials]:
    def renew(current: Account) -> Credentials:
        return Credentials(values={**current.credentials, CONFIGURATION_KEY: stored})

    return renew


class _TextOfHtml(HTMLParser):
    """The words of a status's HTML: paragraphs and line breaks as whitespace."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("br", "p"):
            self.words.append("\n")

    def handle_data(self, data: str) -> None:
        self.words.append(data)


def _plain_text(content: str) -> str:
    parser = _TextOfHtml()
    parser.feed(content)
    parser.close()
    return "".join(parser.words)


def _comparable(text: str) -> str:
    """Text as the instance shows it back, comparable with what we sent: links stand for
    any link (the instance shortens how they read), whitespace collapsed."""
    return " ".join(URL.sub("<link>", html.unescape(text)).split())
