"""Instagram professional accounts: publish a photo, a carousel or a reel through Meta's
container flow, delete it, find it again for reconciliation, read its numbers.

Connected through Facebook Login (an Instagram professional account linked to a
Page), so every call goes to the Graph API with the Page's token; what Meta's
answers mean is decided in publishing/networks/graph.py, shared with Facebook. What
Instagram accepts is in validation.py. The flow (reference/networks.md, Instagram):

1. the publishing quota read (GET /{ig-user-id}/content_publishing_limit) and
   respected: a spent quota waits before anything is made;
2. a container per file (POST /{ig-user-id}/media `image_url`, or `media_type=REELS`
   and `video_url`; carousel children with `is_carousel_item=true`, then the
   carousel's own container naming them): Meta downloads each file from the signed,
   short-lived Kairos address it is given (`MediaFile.url`);
3. the container polled (GET /{container}?fields=status_code) until FINISHED;
4. POST /{ig-user-id}/media_publish `creation_id`: the media id.

A container is kept for a retry (`on_media_uploaded`, for the 24 hours Meta keeps
it). There is no idempotency key: an attempt interrupted at step 4 is reconciled by
reading the account's recent media (`find_part`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from publishing.networks.base import (
    Account,
    AccountStore,
    ConnectError,
    Connection,
    Credentials,
    ErrorKind,
    Lookup,
    MediaFile,
    MediaKind,
    MediaUploaded,
    MetricsReading,
    PartContent,
    PostMetrics,
    Profile,
    PublishError,
    PublishRequest,
    WindowReading,
    account_key,
)
from publishing.networks.graph import (
    GraphAdapter,
    GraphSign,
    graph_ask,
    graph_pages,
    media_address,
    recent_lookup,
)
from publishing.networks.instagram.validation import (
    CAPTION_LIMIT,
    instagram_content_problems,
)

SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
)
SIGN = GraphSign(label="Instagram", reconnect="Social accounts → Connect Instagram account")
# Meta forgets a container not published within 24 hours.
CONTAINER_LIFETIME = timedelta(hours=24)
QUOTA_EDGE = "content_publishing_limit"
# The publishing quota is counted over a rolling day.
QUOTA_WINDOW = "24h"
# When the quota is spent, the rolling 24 hours frees a post at some point; Meta does not
# say when, so the job asks again after this long [inf].
QUOTA_WAIT = timedelta(hours=1)
LOOKUP_LIMIT = 25
METRICS = ("views", "reach", "likes", "comments", "shares", "saved")
PROFILE_FIELDS = "id,username,name,profile_picture_url,followers_count"


class InstagramAdapter(GraphAdapter):
    network = "instagram"
    label = "Instagram"
    sign = SIGN
    scopes = SCOPES
    redirect_setting = "INSTAGRAM_REDIRECT_URI"
    delete_needs = "instagram_content_publish"
    # Connected with its Page's token, which does not expire (as Facebook's).

    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        return instagram_content_problems(parts)

    def text_limit(self, *, account: Account) -> int | None:
        return CAPTION_LIMIT

    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        """Read the account's newest media for one with the caption, made since `since`."""
        account = request.account
        return recent_lookup(
            lambda start: self._call(
                account,
                store,
                "GET",
                "media",
                params={"fields": "id,caption,timestamp", "limit": LOOKUP_LIMIT},
            ).get("data", []),
            text=request.parts[index].text,
            since=since,
            limit=LOOKUP_LIMIT,
            text_field="caption",
            time_field="timestamp",
            label=self.label,
        )

    def post_url(self, *, account: Account, external_id: str) -> str:
        # A post's address uses a code Meta gives only on asking (`permalink`); without
        # one, the account's profile shows it.
        return f"https://www.instagram.com/{account.handle}/"

    def metrics_fetch(
        self, *, account: Account, external_ids: Sequence[str], store: AccountStore
    ) -> MetricsReading:
        """Views, reach, likes, comments, shares and saves of each post: 50 posts a call,
        one multi-ID read of their insights."""

        def read_many(external_ids: list[str]) -> dict[str, PostMetrics]:
            answer = self.client.call(
                "GET",
                "/insights",
                account=account,
                store=store,
                params={"ids": ",".join(external_ids), "metric": ",".join(METRICS)},
                needs="instagram_manage_insights",
            )
            return {external_id: _post_metrics(answer[external_id]) for external_id in external_ids}

        return self._in_batches(external_ids, read_many)

    def profile_fetch(self, *, account: Account, store: AccountStore) -> Profile:
        answer = self.client.call(
            "GET",
            f"/{account.external_id}",
            account=account,
            store=store,
            params={"fields": PROFILE_FIELDS},
        )
        return _profile(answer)

    def connect_choices(self, *, code: str, verifier: str) -> tuple[Connection, ...]:
        """The Instagram professional accounts linked to the person's Pages; each publishes
        with its Page's token."""
        pages = graph_pages(
            self._sign_in(code),
            label=self.label,
            fields="id,name,access_token,instagram_business_account",
        )
        connections = []
        for page in pages:
            linked = (page.get("instagram_business_account") or {}).get("id")
            if not linked or not page.get("access_token"):
                continue
            answer = graph_ask(
                f"/{linked}",
                label=self.label,
                doing="say which Instagram account is linked to the Page",
                params={"fields": PROFILE_FIELDS, "access_token": page["access_token"]},
            )
            connections.append(
                Connection(
                    credentials=Credentials(
                        values={"access_token": page["access_token"], "page_id": page["id"]}
                    ),
                    profile=_profile(answer),
                )
            )
        if not connections:
            raise ConnectError(
                "None of the Pages this sign-in manages has an Instagram professional account "
                "linked. Link the Instagram account to a Facebook Page (in Instagram's "
                "settings, or the Page's), then connect again."
            )
        return tuple(connections)

    # --- Steps --------------------------------------------------------------------

    def _post(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_media_uploaded: MediaUploaded | None,
    ) -> str:
        account = request.account
        self._quota_check(account=account, store=store)
        container = self._container(request, store=store, on_uploaded=on_media_uploaded)
        self._wait_until_finished(account=account, store=store, container=container)
        return self._call(account, store, "POST", "media_publish", body={"creation_id": container})[
            "id"
        ]

    def _call(
        self,
        account: Account,
        store: AccountStore,
        method: str,
        edge: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        return self.client.call(
            method,
            f"/{account.external_id}/{edge}",
            account=account,
            store=store,
            params=params,
            body=body,
            needs="instagram_content_publish",
        )

    def _quota_check(self, *, account: Account, store: AccountStore) -> None:
        """Respect the 24-hour publishing quota before making anything (carousel = 1)."""
        answer = self._call(
            account, store, "GET", QUOTA_EDGE, params={"fields": "quota_usage,config"}
        )
        limit = (answer.get("data") or [{}])[0]
        used = int(limit.get("quota_usage", 0))
        total = int((limit.get("config") or {}).get("quota_total", 0))
        if not total:
            return
        now = datetime.now(UTC)
        remaining = max(0, total - used)
        store.rate_limits_record(
            [
                WindowReading(
                    key=account_key(account.id),
                    endpoint="media_publish",
                    window=QUOTA_WINDOW,
                    limit=total,
                    remaining=remaining,
                    resets_at=now + (QUOTA_WAIT if not remaining else timedelta(hours=24)),
                )
            ]
        )
        if not remaining:
            raise PublishError(
                kind=ErrorKind.RATE_LIMITED,
                message=f"{account} has published {used} times in the last 24 hours, "
                f"Instagram's most ({total}); the post waits for the quota to free up.",
                retry_at=now + QUOTA_WAIT,
            )

    def _container(
        self, request: PublishRequest, *, store: AccountStore, on_uploaded: MediaUploaded | None
    ) -> str:
        """The container to publish: the file's, or a carousel's naming one per file."""
        account = request.account
        part = request.parts[0]
        if len(part.media) == 1:
            return self._item_container(
                request, part.media[0], store=store, on_uploaded=on_uploaded, caption=part.text
            )
        children = [
            self._item_container(request, media, store=store, on_uploaded=on_uploaded)
            for media in part.media
        ]
        for child in children:
            self._wait_until_finished(account=account, store=store, container=child)
        return self._call(
            account,
            store,
            "POST",
            "media",
            body={"media_type": "CAROUSEL", "children": ",".join(children), "caption": part.text},
        )["id"]

    def _item_container(
        self,
        request: PublishRequest,
        media: MediaFile,
        *,
        store: AccountStore,
        on_uploaded: MediaUploaded | None,
        caption: str | None = None,
    ) -> str:
        account = request.account
        kept = request.media_uploads.get(media.asset_id)
        if kept is not None and kept.expires_at > datetime.now(UTC):
            status = self._status(account=account, store=store, container=kept.media_id)
            if status in ("IN_PROGRESS", "FINISHED"):
                return kept.media_id
            if status == "PUBLISHED" and caption is not None:
                raise _container_error(status)
        body: dict[str, Any] = {}
        if media.kind is MediaKind.VIDEO:
            body.update(
                media_type="VIDEO" if caption is None else "REELS",
                video_url=media_address(media, SIGN),
            )
        else:
            body["image_url"] = media_address(media, SIGN)
        if caption is None:
            body["is_carousel_item"] = True
        else:
            body["caption"] = caption
        if media.alt_text and media.kind is not MediaKind.VIDEO:
            body["alt_text"] = media.alt_text
        container = self._call(account, store, "POST", "media", body=body)["id"]
        if on_uploaded is not None:
            on_uploaded(media.asset_id, container, datetime.now(UTC) + CONTAINER_LIFETIME)
        return container

    def _status(self, *, account: Account, store: AccountStore, container: str) -> str:
        answer = self.client.call(
            "GET",
            f"/{container}",
            account=account,
            store=store,
            params={"fields": "status_code,status"},
        )
        return str(answer.get("status_code", ""))

    def _wait_until_finished(
        self, *, account: Account, store: AccountStore, container: str
    ) -> None:
        """Poll the container until Meta has prepared it; nothing is published meanwhile,
        so giving up is safe to retry."""
        deadline = time.monotonic() + settings.INSTAGRAM_CONTAINER_TIMEOUT
        while True:
            status = self._status(account=account, store=store, container=container)
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED", "PUBLISHED"):
                raise _container_error(status)
            if time.monotonic() > deadline:
                raise PublishError(
                    kind=ErrorKind.SERVER,
                    message="Instagram was still preparing the media after "
                    f"{settings.INSTAGRAM_CONTAINER_TIMEOUT:g} s; the post is tried again later.",
                )
            time.sleep(settings.INSTAGRAM_CONTAINER_POLL)

    def _published_url(self, *, account: Account, store: AccountStore, external_id: str) -> str:
        """The post's own address, which only Meta knows (`permalink`)."""
        try:
            answer = self.client.call(
                "GET",
                f"/{external_id}",
                account=account,
                store=store,
                params={"fields": "permalink"},
            )
        except PublishError:
            # Published all the same: the address is a nicety, the profile shows the post.
            answer = {}
        return answer.get("permalink") or self.post_url(account=account, external_id=external_id)


_STATUS_WORDS = {
    "ERROR": "Instagram could not prepare the media (it refused the file: check its format, "
    "size and aspect ratio, 4:5 to 1.91:1), so nothing was posted. Change the file and "
    "publish again.",
    "EXPIRED": "Instagram forgot the prepared media (24 hours passed); the post is tried again.",
    "PUBLISHED": "The prepared media was already published by an earlier attempt; Kairos "
    "looks the post up instead.",
}


def _container_error(status: str) -> PublishError:
    return PublishError(
        kind=ErrorKind.VALIDATION if status == "ERROR" else ErrorKind.SERVER,
        message=_STATUS_WORDS[status],
        # A published container means the post exists: reconcile, never publish again.
        maybe_accepted=status == "PUBLISHED",
    )


def _post_metrics(insights: dict[str, Any]) -> PostMetrics:
    values = {item["name"]: item["values"][0]["value"] for item in insights.get("data", [])}
    return PostMetrics(
        impressions=values.get("views"),
        likes=values.get("likes"),
        replies=values.get("comments"),
        reposts=values.get("shares"),
        bookmarks=values.get("saved"),
        raw=values,
    )


def _profile(answer: dict[str, Any]) -> Profile:
    return Profile(
        external_id=str(answer["id"]),
        handle=answer.get("username", ""),
        display_name=answer.get("name", ""),
        avatar_url=answer.get("profile_picture_url", ""),
        followers_count=answer.get("followers_count"),
    )
