"""Facebook Pages: publish a post (text, a link, photos, a video) as the Page, delete it,
find it again for reconciliation, read its numbers.

What Meta's answers mean is decided in publishing/networks/graph.py, shared with
Instagram; what a Page accepts, in validation.py. This module says what to ask
(reference/networks.md, Facebook Pages):

* text and links: POST /{page-id}/feed `message` (`link`: the first address in it);
* one photo: POST /{page-id}/photos `url`, `caption`;
* several photos: each POST /{page-id}/photos `url`, `published=false`, then one
  POST /{page-id}/feed with `attached_media` naming them all;
* a video: POST /{page-id}/videos `file_url`, `description`; one larger than
  FACEBOOK_RESUMABLE_VIDEO_BYTES is sent by Kairos itself, in the resumable upload's
  chunks instead: `upload_phase=start` with `file_size` (a session, and the first
  chunk's offsets), `upload_phase=transfer` with each `video_file_chunk` from the
  `start_offset` Meta names until start and end meet, then `upload_phase=finish` with
  the `description`, which makes the post (its id is the session's `video_id`).

Meta fetches every other file from the signed, short-lived Kairos address it is given
(`MediaFile.url`). The Graph API takes no idempotency key: an attempt interrupted
after its request may have been accepted is reconciled by reading the Page's posts
since the attempt began (`find_part`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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
)
from publishing.networks.facebook.validation import TEXT_LIMIT, facebook_content_problems
from publishing.networks.graph import (
    GraphAdapter,
    GraphSign,
    graph_pages,
    media_address,
    recent_lookup,
)

SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "publish_video",
    "read_insights",
)
SIGN = GraphSign(label="Facebook", reconnect="Social accounts → Connect Facebook Pages")
LINK = re.compile(r"https?://\S+")
# How long an unpublished photo stays usable for a retry's attached_media [inf].
UNPUBLISHED_PHOTO_LIFETIME = timedelta(hours=24)
LOOKUP_LIMIT = 100
# The largest video Meta fetches from a file_url [i]; larger ones go up in chunks.
FILE_URL_MAX_BYTES = 1024 * 1024 * 1024
INSIGHTS = ("post_media_view", "post_total_media_view_unique")
COUNT_FIELDS = "shares,comments.summary(true).limit(0),reactions.summary(true).limit(0)"


class FacebookAdapter(GraphAdapter):
    network = "facebook"
    label = "Facebook"
    sign = SIGN
    scopes = SCOPES
    redirect_setting = "FACEBOOK_REDIRECT_URI"
    delete_needs = "pages_manage_posts"

    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        return facebook_content_problems(parts)

    def text_limit(self, *, account: Account) -> int | None:
        return TEXT_LIMIT

    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        """Read the Page's own posts made since the attempt began for the part's words."""
        account = request.account
        return recent_lookup(
            lambda start: self.client.call(
                "GET",
                f"/{account.external_id}/posts",
                account=account,
                store=store,
                params={
                    "fields": "id,message,created_time",
                    "since": int(start.timestamp()),
                    "limit": LOOKUP_LIMIT,
                },
                needs="pages_read_engagement",
            ).get("data", []),
            text=request.parts[index].text,
            since=since,
            limit=LOOKUP_LIMIT,
            text_field="message",
            time_field="created_time",
            label=self.label,
        )

    def post_url(self, *, account: Account, external_id: str) -> str:
        return f"https://www.facebook.com/{external_id}"

    def metrics_fetch(
        self, *, account: Account, external_ids: Sequence[str], store: AccountStore
    ) -> MetricsReading:
        """Reactions, comments and shares of each post, and its views where Meta gives
        them (insights need a Page of 100 likes or more: otherwise left unknown); 50
        posts a call, with one multi-ID read for the counts and one for the insights."""

        def read_many(external_ids: list[str]) -> dict[str, PostMetrics]:
            counts = self.client.call(
                "GET",
                "/",
                account=account,
                store=store,
                params={"ids": ",".join(external_ids), "fields": COUNT_FIELDS},
                needs="pages_read_engagement",
            )
            views = self._insights(account=account, store=store, external_ids=external_ids)
            return {
                external_id: PostMetrics(
                    impressions=views.get(external_id, {}).get("post_media_view"),
                    likes=_total(counts[external_id].get("reactions")),
                    replies=_total(counts[external_id].get("comments")),
                    reposts=(counts[external_id].get("shares") or {}).get("count", 0),
                    raw={"counts": counts[external_id], "insights": views.get(external_id, {})},
                )
                for external_id in external_ids
            }

        return self._in_batches(external_ids, read_many)

    def profile_fetch(self, *, account: Account, store: AccountStore) -> Profile:
        answer = self.client.call(
            "GET",
            f"/{account.external_id}",
            account=account,
            store=store,
            params={"fields": "id,name,followers_count"},
        )
        return _page_profile(answer)

    def connect_choices(self, *, code: str, verifier: str) -> tuple[Connection, ...]:
        """The Pages the person manages, each with its own Page token."""
        pages = graph_pages(self._sign_in(code), label=self.label, fields="id,name,access_token")
        connections = tuple(
            Connection(
                credentials=Credentials(
                    values={"access_token": page["access_token"], "page_id": page["id"]}
                ),
                profile=_page_profile(page),
            )
            for page in pages
            if page.get("access_token")
        )
        if not connections:
            raise ConnectError(
                "This Facebook sign-in manages no Page Kairos may publish to. Sign in as a "
                "person who manages the Page, and allow Kairos to manage its posts."
            )
        return connections

    # --- Steps --------------------------------------------------------------------

    def _post(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_media_uploaded: MediaUploaded | None,
    ) -> str:
        account = request.account
        part = request.parts[0]
        page = f"/{account.external_id}"

        def send(edge: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
            return self.client.call(
                "POST",
                f"{page}/{edge}",
                account=account,
                store=store,
                body=body,
                needs="pages_manage_posts and publish_video",
                **options,
            )

        videos = [media for media in part.media if media.kind is MediaKind.VIDEO]
        fetched_at_most = min(settings.FACEBOOK_RESUMABLE_VIDEO_BYTES, FILE_URL_MAX_BYTES)
        if videos and videos[0].size_bytes > fetched_at_most:
            return _video_in_chunks(videos[0], description=part.text, send=send)
        if videos:
            answer = send(
                "videos",
                {"file_url": media_address(videos[0], SIGN), "description": part.text},
            )
            return answer["id"]
        if len(part.media) == 1:
            answer = send(
                "photos", {"url": media_address(part.media[0], SIGN), "caption": part.text}
            )
            return answer.get("post_id") or answer["id"]
        body: dict[str, Any] = {"message": part.text}
        if part.media:
            photo_ids = [
                self._unpublished_photo(request, media, send=send, on_uploaded=on_media_uploaded)
                for media in part.media
            ]
            body["attached_media"] = [{"media_fbid": photo_id} for photo_id in photo_ids]
        else:
            link = LINK.search(part.text)
            if link:
                body["link"] = link.group(0)
        return send("feed", body)["id"]

    def _unpublished_photo(
        self,
        request: PublishRequest,
        media: MediaFile,
        *,
        send: Callable[[str, dict[str, Any]], dict[str, Any]],
        on_uploaded: MediaUploaded | None,
    ) -> str:
        kept = request.media_uploads.get(media.asset_id)
        if kept is not None and kept.expires_at > datetime.now(UTC):
            return kept.media_id
        answer = send("photos", {"url": media_address(media, SIGN), "published": False})
        if on_uploaded is not None:
            on_uploaded(
                media.asset_id, answer["id"], datetime.now(UTC) + UNPUBLISHED_PHOTO_LIFETIME
            )
        return answer["id"]

    def _insights(
        self, *, account: Account, store: AccountStore, external_ids: list[str]
    ) -> dict[str, dict]:
        """Each post's insights by name, in one multi-ID read; none where Meta refuses
        them (a Page under 100 likes), as a refusal is the Page's, not a post's."""
        try:
            answer = self.client.call(
                "GET",
                "/insights",
                account=account,
                store=store,
                params={"ids": ",".join(external_ids), "metric": ",".join(INSIGHTS)},
                needs="read_insights",
            )
        except PublishError as error:
            if error.kind.retryable:
                raise
            return {}
        return {
            external_id: {item["name"]: item["values"][0]["value"] for item in read["data"]}
            for external_id, read in answer.items()
        }


def _video_in_chunks(
    video: MediaFile, *, description: str, send: Callable[..., dict[str, Any]]
) -> str:
    """The resumable upload (see the docstring); the video's id, which is the post's."""
    if video.open is None:
        raise PublishError(
            kind=ErrorKind.VALIDATION, message=f"Kairos cannot read {video} to upload it."
        )
    session = send("videos", {"upload_phase": "start", "file_size": video.size_bytes})
    upload = {"upload_session_id": session["upload_session_id"]}
    start, end = int(session["start_offset"]), int(session["end_offset"])
    with video.open() as handle:
        while start < end:
            handle.seek(start)
            chunk = (video.name or "video.mp4", handle.read(end - start), video.mime_type)
            answer = send(
                "videos",
                {**upload, "upload_phase": "transfer", "start_offset": start},
                files={"video_file_chunk": chunk},
            )
            start, end = int(answer["start_offset"]), int(answer["end_offset"])
    send("videos", {**upload, "upload_phase": "finish", "description": description})
    return str(session["video_id"])


def _total(edge: Any) -> int | None:
    if not isinstance(edge, dict):
        return None
    return (edge.get("summary") or {}).get("total_count")


def _page_profile(page: dict[str, Any]) -> Profile:
    return Profile(
        external_id=str(page["id"]),
        handle=page.get("name", ""),
        display_name=page.get("name", ""),
        followers_count=page.get("followers_count"),
    )
