"""How a part's files reach Bluesky: images as blobs on the account's PDS, a video through
Bluesky's video service (networks.md, Image and Video).

Bluesky forgets a blob no post uses within minutes, so a later attempt uploads again
rather than reuse one (the same bytes make the same blob); `on_media_uploaded` is
therefore not called.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from publishing.networks.base import (
    Account,
    AccountStore,
    ErrorKind,
    MediaFile,
    MediaKind,
    PublishError,
)
from publishing.networks.bluesky.client import BlueskyClient
from publishing.networks.bluesky.session import pds_of

VIDEO_DONE = "JOB_STATE_COMPLETED"
VIDEO_FAILED = "JOB_STATE_FAILED"
# How often to ask whether a video is processed.
VIDEO_POLL_SECONDS = 1.0
# A service token lives this long: the upload of a large file must fit in it.
SERVICE_TOKEN_LIFETIME = timedelta(minutes=30)


def bluesky_embed(
    *, client: BlueskyClient, account: Account, store: AccountStore, media: tuple[MediaFile, ...]
) -> dict[str, Any] | None:
    """The part's embed (its images, or its video), with every file on Bluesky."""
    if not media:
        return None
    if media[0].kind is MediaKind.VIDEO:
        video = media[0]
        embed: dict[str, Any] = {
            "$type": "app.bsky.embed.video",
            "video": _video_blob(client=client, account=account, store=store, file=video),
        }
        if video.alt_text:
            embed["alt"] = video.alt_text
        return {**embed, **_aspect_ratio(video)}
    images = []
    for file in media:
        answer = client.call(
            "POST",
            "com.atproto.repo.uploadBlob",
            account=account,
            store=store,
            endpoint="media",
            body=_bytes(file),
            headers={"Content-Type": file.mime_type},
        )
        images.append({"image": answer["blob"], "alt": file.alt_text, **_aspect_ratio(file)})
    return {"$type": "app.bsky.embed.images", "images": images}


def _video_blob(
    *, client: BlueskyClient, account: Account, store: AccountStore, file: MediaFile
) -> dict:
    """Upload the video to the video service with a token the PDS grants for it, and wait
    until the service has processed it into a blob on the account's PDS."""
    expires = datetime.now(UTC) + SERVICE_TOKEN_LIFETIME
    grant = client.call(
        "GET",
        "com.atproto.server.getServiceAuth",
        account=account,
        store=store,
        endpoint="media",
        params={
            "aud": f"did:web:{urlsplit(pds_of(account)).hostname}",
            "lxm": "com.atproto.repo.uploadBlob",
            "exp": int(expires.timestamp()),
        },
    )
    video_service = settings.BLUESKY_VIDEO_URL

    def ask(method: str, nsid: str, params: dict, **payload) -> dict:
        return client.service_call(
            method,
            video_service,
            nsid,
            token=grant["token"],
            account=account,
            store=store,
            params=params,
            **payload,
        )

    status = ask(
        "POST",
        "app.bsky.video.uploadVideo",
        {"did": account.external_id, "name": file.name or f"video-{file.asset_id}.mp4"},
        body=_bytes(file),
        headers={"Content-Type": file.mime_type},
    )
    # The service answers the upload with the job's status itself; its lexicon wraps it.
    status = status.get("jobStatus", status)
    deadline = time.monotonic() + settings.BLUESKY_VIDEO_PROCESSING_TIMEOUT
    while status.get("state") not in (VIDEO_DONE, VIDEO_FAILED):
        if time.monotonic() > deadline:
            raise PublishError(
                kind=ErrorKind.SERVER,
                message=f"Bluesky was still processing {file} after "
                f"{settings.BLUESKY_VIDEO_PROCESSING_TIMEOUT:.0f} seconds; Kairos tries again.",
            )
        time.sleep(VIDEO_POLL_SECONDS)
        status = ask("GET", "app.bsky.video.getJobStatus", {"jobId": status["jobId"]})["jobStatus"]
    if status["state"] == VIDEO_FAILED:
        raise PublishError(
            kind=ErrorKind.VALIDATION,
            message=f"Bluesky could not process {file}: {status.get('error') or 'no reason given'} "
            f"({status.get('failureCode', 'failed')}). Export it again as an MP4 (H.264) and "
            "attach that.",
        )
    return status["blob"]


def _bytes(file: MediaFile) -> bytes:
    if file.open is None:
        raise PublishError(kind=ErrorKind.VALIDATION, message=f"{file} has no bytes to upload.")
    with file.open() as handle:
        return handle.read()


def _aspect_ratio(file: MediaFile) -> dict[str, Any]:
    if file.width and file.height:
        return {"aspectRatio": {"width": file.width, "height": file.height}}
    return {}
