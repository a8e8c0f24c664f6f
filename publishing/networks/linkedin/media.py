"""A post's files on LinkedIn: each image or video uploaded once per job, as the URN its
post names (reference/networks.md, LinkedIn → Publish).

* an image: POST /rest/images?action=initializeUpload, PUT the bytes to the `uploadUrl`
  it gives, and (organizations only: member tokens cannot read images) wait for
  GET /rest/images/{urn} to say AVAILABLE;
* a video: POST /rest/videos?action=initializeUpload with the file's size, PUT each
  part (`firstByte` to `lastByte`) to its `uploadUrl`, keeping the `etag` each answers,
  POST /rest/videos?action=finalizeUpload with the upload token and the ETags in order,
  then wait for GET /rest/videos/{urn} to say AVAILABLE.

A file is read part by part, never whole into memory. Its URN is handed to
`on_uploaded` as soon as LinkedIn has it, so a retry (after a video took longer to
process than a publish waits) posts it without uploading it again.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from publishing.networks.base import (
    Account,
    AccountStore,
    ErrorKind,
    MediaFile,
    MediaKind,
    MediaUploaded,
    PublishError,
    PublishRequest,
)
from publishing.networks.linkedin.client import LinkedInClient, urn_path
from publishing.networks.linkedin.oauth import MEMBER_PREFIX

# How long an uploaded image or video stays usable for a retry's post [inf].
UPLOAD_LIFETIME = timedelta(hours=24)
IMAGE_POLL_SECONDS = 1.0
VIDEO_POLL_SECONDS = 3.0
VIDEO_PART_TYPE = "application/octet-stream"


class LinkedInMedia:
    def __init__(self, client: LinkedInClient) -> None:
        self.client = client

    def urn(
        self,
        request: PublishRequest,
        media: MediaFile,
        *,
        author: str,
        write_scope: str,
        store: AccountStore,
        on_uploaded: MediaUploaded | None,
    ) -> str:
        """The file's URN on LinkedIn: one a previous attempt uploaded, or a new upload."""
        kept = request.media_uploads.get(media.asset_id)
        if kept is not None and kept.expires_at > datetime.now(UTC):
            if media.kind is MediaKind.VIDEO:
                # A retry after the wait ran out: the video may still be processing.
                self._ready(request.account, store, kept.media_id, media, video=True)
            return kept.media_id
        if media.open is None:
            raise PublishError(
                kind=ErrorKind.VALIDATION, message=f"Kairos cannot read {media} to upload it."
            )
        account = request.account
        video = media.kind is MediaKind.VIDEO
        if video:
            urn = self._video_upload(account, store, media, author=author, scope=write_scope)
        else:
            urn = self._image_upload(account, store, media, author=author, scope=write_scope)
        if on_uploaded is not None:
            on_uploaded(media.asset_id, urn, datetime.now(UTC) + UPLOAD_LIFETIME)
        if video or not author.startswith(MEMBER_PREFIX):
            self._ready(account, store, urn, media, video=video)
        return urn

    def _image_upload(
        self, account: Account, store: AccountStore, media: MediaFile, *, author: str, scope: str
    ) -> str:
        started = self._initialize(account, store, "images", {"owner": author}, scope=scope)
        with media.open() as handle:
            data = handle.read()
        self.client.upload(
            started["uploadUrl"], data, account=account, store=store, content_type=media.mime_type
        )
        return started["image"]

    def _video_upload(
        self, account: Account, store: AccountStore, media: MediaFile, *, author: str, scope: str
    ) -> str:
        asked = {
            "owner": author,
            "fileSizeBytes": media.size_bytes,
            "uploadCaptions": False,
            "uploadThumbnail": False,
        }
        started = self._initialize(account, store, "videos", asked, scope=scope)
        etags = []
        with media.open() as handle:
            for instruction in started["uploadInstructions"]:
                first, last = int(instruction["firstByte"]), int(instruction["lastByte"])
                handle.seek(first)
                answer = self.client.upload(
                    instruction["uploadUrl"],
                    handle.read(last - first + 1),
                    account=account,
                    store=store,
                    content_type=VIDEO_PART_TYPE,
                )
                etag = answer.headers.get("etag", "")
                if not etag:
                    raise PublishError(
                        kind=ErrorKind.SERVER,
                        message=f"LinkedIn took a part of {media} without naming it (no ETag); "
                        "trying again later.",
                    )
                etags.append(etag)
        urn = started["video"]
        self.client.call(
            "POST",
            "/rest/videos",
            account=account,
            store=store,
            params={"action": "finalizeUpload"},
            body={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": started.get("uploadToken", ""),
                    "uploadedPartIds": etags,
                }
            },
            needs=scope,
        )
        return urn

    def _initialize(
        self,
        account: Account,
        store: AccountStore,
        collection: str,
        asked: dict[str, Any],
        *,
        scope: str,
    ) -> dict[str, Any]:
        """POST /rest/{collection}?action=initializeUpload: the URN and where to upload."""
        return self.client.call(
            "POST",
            f"/rest/{collection}",
            account=account,
            store=store,
            params={"action": "initializeUpload"},
            body={"initializeUploadRequest": asked},
            needs=scope,
        ).body["value"]

    def _ready(
        self, account: Account, store: AccountStore, urn: str, media: MediaFile, *, video: bool
    ) -> None:
        """Wait for the file to be AVAILABLE. A member's image cannot be asked after (its
        post is then refused while it processes, and retried); a video that takes longer
        than LINKEDIN_VIDEO_TIMEOUT is a retry later, reusing the upload."""
        collection = "videos" if video else "images"
        timeout = settings.LINKEDIN_VIDEO_TIMEOUT if video else settings.LINKEDIN_IMAGE_TIMEOUT
        deadline = time.monotonic() + timeout
        while True:
            answer = self.client.call(
                "GET", f"/rest/{collection}/{urn_path(urn)}", account=account, store=store
            )
            status = (answer.body or {}).get("status")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise PublishError(
                    kind=ErrorKind.VALIDATION,
                    message=f"LinkedIn could not process {media}; try another "
                    f"{'video' if video else 'image'}.",
                )
            if time.monotonic() >= deadline:
                raise PublishError(
                    kind=ErrorKind.SERVER,
                    message=f"LinkedIn had not finished processing {media}; trying again later.",
                )
            time.sleep(VIDEO_POLL_SECONDS if video else IMAGE_POLL_SECONDS)
