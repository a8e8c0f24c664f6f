"""A post's files on Mastodon: POST /api/v2/media with the alt text, then waiting for
processing, before the post.

An image is processed in the answer (200); a video or GIF after it (202, `url`
null), and GET /api/v1/media/:id answers 206 until it is ready. An upload is
reported to the job as soon as the instance has it, so a later attempt asks after
the same id instead of sending the bytes again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from time import sleep

from publishing.networks.base import (
    Account,
    AccountStore,
    ErrorKind,
    MediaFile,
    MediaUpload,
    MediaUploaded,
    PublishError,
)
from publishing.networks.mastodon.client import MastodonClient

# Mastodon removes uploads no post took after a day [inf: its media vacuum's age].
UPLOAD_LIFETIME = timedelta(days=1)
REUSE_MARGIN = timedelta(minutes=15)
# As for X: the attempt must end well inside the task's time limit; a file still
# processing then is waited for by the next attempt, which finds the upload on the job.
PROCESSING_WAIT_SECONDS = 60
POLL_SECONDS = 1
# 202: accepted, processing after the answer; 206: still processing.
STILL_PROCESSING = frozenset({202, 206})


class MediaUploader:
    """Gets the instance's media ids for one attempt's files, uploading only what it lacks."""

    def __init__(
        self,
        *,
        client: MastodonClient,
        account: Account,
        store: AccountStore,
        kept: Mapping[int, MediaUpload],
        on_uploaded: MediaUploaded | None,
    ) -> None:
        self.client = client
        self.account = account
        self.store = store
        self.kept = kept
        self.on_uploaded = on_uploaded
        self.waited = 0.0

    def media_ids(self, assets: Iterable[MediaFile]) -> list[str]:
        return [self._ready(asset) for asset in assets]

    def _ready(self, asset: MediaFile) -> str:
        kept = self.kept.get(asset.asset_id)
        status = None
        if kept is not None and kept.expires_at > datetime.now(UTC) + REUSE_MARGIN:
            media_id = kept.media_id
            try:
                status = self._call("GET", f"/api/v1/media/{media_id}").status
            except PublishError as error:
                # The instance no longer has it, or it went into a post: send it again.
                if error.http_status != 404:
                    raise
        if status is None:
            media_id, status = self._upload(asset)
        while status in STILL_PROCESSING:
            if self.waited + POLL_SECONDS > PROCESSING_WAIT_SECONDS:
                raise PublishError(
                    kind=ErrorKind.SERVER,
                    message=f"Mastodon was still processing {asset} after {int(self.waited)} "
                    "seconds; Kairos tries again later with the same upload.",
                )
            sleep(POLL_SECONDS)
            self.waited += POLL_SECONDS
            try:
                status = self._call("GET", f"/api/v1/media/{media_id}").status
            except PublishError as error:
                if error.kind == ErrorKind.VALIDATION:
                    raise replace(
                        error,
                        message=f"Mastodon could not process {asset} ({error.message}); "
                        "replace the file and publish again.",
                    ) from None
                raise
        return media_id

    def _upload(self, asset: MediaFile) -> tuple[str, int]:
        fields = {}
        if asset.alt_text:
            fields["description"] = asset.alt_text
        with asset.open() as file:
            fields["file"] = (asset.name or f"file-{asset.asset_id}", file.read(), asset.mime_type)
        answer = self._call("POST", "/api/v2/media", fields=fields)
        media_id = answer.body["id"]
        if self.on_uploaded is not None:
            self.on_uploaded(asset.asset_id, media_id, datetime.now(UTC) + UPLOAD_LIFETIME)
        return media_id, answer.status

    def _call(self, method: str, path: str, **kwargs):
        try:
            return self.client.answer(
                method,
                path,
                account=self.account,
                store=self.store,
                endpoint="media",
                scope="write:media",
                **kwargs,
            )
        except PublishError as error:
            # No post exists before POST /api/v1/statuses, so a media call cut short
            # cannot have published anything: it is retried, never reconciled.
            raise replace(error, maybe_accepted=False) from None
