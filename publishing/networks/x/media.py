"""A post's files on X: v2 chunked upload, processing, and alt text, before the post.

Per file: initialize (type, size, category), append 4 MiB segments, finalize, then
poll the status while X processes GIFs and videos, then set the alt text. An upload
is reported to the job as soon as it is finalized, so a later attempt within its
lifetime polls the same id instead of sending the bytes again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from time import sleep
from typing import Any

from publishing.networks.base import (
    Account,
    AccountStore,
    ErrorKind,
    MediaFile,
    MediaKind,
    MediaUpload,
    MediaUploaded,
    PublishError,
)
from publishing.networks.x.client import XClient

CHUNK_BYTES = 4 * 1024 * 1024  # as xurl sends them
CATEGORIES = {
    MediaKind.IMAGE: "tweet_image",
    MediaKind.GIF: "tweet_gif",
    MediaKind.VIDEO: "tweet_video",
}
# Waiting for X's processing, over one attempt. The attempt must end well inside the
# task's 120-second limit; a video still processing then is waited for again by the
# next attempt, which finds the upload on the job.
PROCESSING_WAIT_SECONDS = 60
# An upload kept on the job is reused only if it outlives the attempt by this much.
REUSE_MARGIN = timedelta(minutes=15)
STILL_PROCESSING = frozenset({"pending", "in_progress"})


class MediaUploader:
    """Gets X media ids for one publish attempt's files, uploading only what X lacks."""

    def __init__(
        self,
        *,
        client: XClient,
        account: Account,
        store: AccountStore,
        token: str,
        kept: Mapping[int, MediaUpload],
        on_uploaded: MediaUploaded | None,
    ) -> None:
        self.client = client
        self.account = account
        self.store = store
        self.token = token
        self.kept = kept
        self.on_uploaded = on_uploaded
        self.waited = 0.0

    def media_ids(self, assets: Iterable[MediaFile]) -> list[str]:
        return [self._ready(asset) for asset in assets]

    def _ready(self, asset: MediaFile) -> str:
        """The id of `asset` on X, processed and with its alt text."""
        kept = self.kept.get(asset.asset_id)
        data = None
        if kept is not None and kept.expires_at > datetime.now(UTC) + REUSE_MARGIN:
            try:
                data = self._status(kept.media_id)
            except PublishError as error:
                # X no longer knows the id (it forgot it early): send the file again.
                if error.kind != ErrorKind.VALIDATION:
                    raise
        if data is None:
            data = self._upload(asset)
        media_id = data["id"]
        self._await_processing(asset, media_id, data.get("processing_info"))
        if asset.alt_text:
            # Sent on every attempt: the attempt that uploaded may have stopped before it.
            self._call(
                "POST",
                "/2/media/metadata",
                endpoint="media_metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": asset.alt_text}}},
            )
        return media_id

    def _upload(self, asset: MediaFile) -> dict[str, Any]:
        with asset.open() as file:
            # X must be told the exact byte count first: the file's own, not what was
            # recorded of it.
            total_bytes = file.seek(0, os.SEEK_END)
            file.seek(0)
            initialized = self._call(
                "POST",
                "/2/media/upload/initialize",
                endpoint="media_initialize",
                json={
                    "media_type": asset.mime_type,
                    "total_bytes": total_bytes,
                    "media_category": CATEGORIES[MediaKind(asset.kind)],
                },
            )
            media_id = initialized["data"]["id"]
            for index, chunk in enumerate(iter(lambda: file.read(CHUNK_BYTES), b"")):
                self._call(
                    "POST",
                    f"/2/media/upload/{media_id}/append",
                    endpoint="media_append",
                    fields={
                        "segment_index": str(index),
                        "media": ("media", chunk, "application/octet-stream"),
                    },
                )
        data = self._call(
            "POST", f"/2/media/upload/{media_id}/finalize", endpoint="media_finalize"
        )["data"]
        if self.on_uploaded is not None:
            expires_at = datetime.now(UTC) + timedelta(seconds=data["expires_after_secs"])
            self.on_uploaded(asset.asset_id, media_id, expires_at)
        return data

    def _status(self, media_id: str) -> dict[str, Any]:
        return self._call(
            "GET",
            "/2/media/upload",
            endpoint="media_status",
            params={"command": "STATUS", "media_id": media_id},
        )["data"]

    def _await_processing(
        self, asset: MediaFile, media_id: str, info: dict[str, Any] | None
    ) -> None:
        """Poll until X has processed the file, at the pace X asks, within the wait budget."""
        while info is not None and info.get("state") in STILL_PROCESSING:
            delay = max(1, info.get("check_after_secs", 1))
            if self.waited + delay > PROCESSING_WAIT_SECONDS:
                raise PublishError(
                    kind=ErrorKind.SERVER,
                    message=f"X was still processing {asset} after {int(self.waited)} seconds; "
                    "Kairos tries again later with the same upload.",
                )
            sleep(delay)
            self.waited += delay
            info = self._status(media_id).get("processing_info")
        if info is not None and info.get("state") == "failed":
            reason = info.get("error", {}).get("message") or "no reason given"
            raise PublishError(
                kind=ErrorKind.VALIDATION,
                message=f"X could not process {asset} ({reason}); replace the file and publish "
                "again.",
                details={"media_id": media_id, "processing_info": info},
            )

    def _call(self, method: str, path: str, *, endpoint: str, **kwargs) -> dict[str, Any]:
        try:
            return self.client.call(
                method,
                path,
                token=self.token,
                account=self.account,
                store=self.store,
                endpoint=endpoint,
                **kwargs,
            )
        except PublishError as error:
            # No post exists before POST /2/tweets, so a media call cut short cannot
            # have published anything: it is retried, never reconciled.
            raise replace(error, maybe_accepted=False) from None
