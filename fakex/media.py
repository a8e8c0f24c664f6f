"""v2 media upload: chunked (initialize, append, finalize, status), one-shot for images,
and metadata (alt text).

Follows xurl's `api/media.go` and platforms.md §3.2. Processing of GIFs and videos is a
timeline measured on the fake's clock, so tests move the clock instead of sleeping.
"""

from __future__ import annotations

import base64
import binascii
import math
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Any

from fakex import problems
from fakex.schema import ID, schema_errors
from fakex.state import Caller, Media, World
from fakex.wire import Request, Response

MEGABYTE = 1024 * 1024
IMAGE_MAX_BYTES = 5 * MEGABYTE
GIF_MAX_BYTES = 15 * MEGABYTE
VIDEO_MAX_BYTES = 512 * MEGABYTE
MAX_BYTES_BY_CATEGORY = {
    "tweet_image": IMAGE_MAX_BYTES,
    "dm_image": IMAGE_MAX_BYTES,
    "subtitles": IMAGE_MAX_BYTES,  # [inf] not documented; subtitles are small
    "tweet_gif": GIF_MAX_BYTES,
    "dm_gif": GIF_MAX_BYTES,
    "tweet_video": VIDEO_MAX_BYTES,
    "amplify_video": VIDEO_MAX_BYTES,
    "dm_video": VIDEO_MAX_BYTES,
}
PROCESSED_CATEGORIES = frozenset(
    {"tweet_gif", "dm_gif", "tweet_video", "amplify_video", "dm_video"}
)
ONE_SHOT_CATEGORIES = frozenset({"tweet_image", "dm_image", "subtitles"})
MEDIA_TYPES = (
    "image/jpeg",
    "image/pjpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/mp2t",
    "text/srt",
    "text/vtt",
)
# [doc] the initialize example says 1295999; a finalized upload must be used within a day.
UPLOAD_SESSION_SECONDS = 1_295_999
FINALIZED_MEDIA_SECONDS = 86_400
MAX_SEGMENT_INDEX = 999

INITIALIZE_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["media_type", "total_bytes"],
    "properties": {
        "media_type": {"type": "string", "enum": list(MEDIA_TYPES)},
        "total_bytes": {"type": "integer", "minimum": 1},
        "media_category": {"type": "string", "enum": list(MAX_BYTES_BY_CATEGORY)},
        "additional_owners": {"type": "array", "items": ID},
        "shared": {"type": "boolean"},
    },
}

# [doc] POST /2/media/metadata (MetadataCreateRequest). Only alt text is modelled; the
# other documented metadata objects are accepted and forgotten.
ALT_TEXT_MAX_LENGTH = 1000
METADATA_REQUEST: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "properties": {
        "id": ID,
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "alt_text": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["text"],
                    "properties": {"text": {"type": "string", "maxLength": ALT_TEXT_MAX_LENGTH}},
                },
                **{
                    name: {"type": "object"}
                    for name in (
                        "allow_download_status",
                        "audience_policy",
                        "content_expiration",
                        "domain_restrictions",
                        "found_media_origin",
                        "geo_restrictions",
                        "management_info",
                        "preview_image",
                        "sensitive_media_warning",
                        "shared_info",
                        "sticker_info",
                        "upload_source",
                    )
                },
            },
        },
    },
}

# [inf] processing failure in the v1.1 shape, which v2 kept for processing_info.
PROCESSING_FAILED_ERROR = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}


def media_kind(media: Media) -> str:
    return _category_kind(media.media_category)


def _category_kind(category: str) -> str:
    if category.endswith("gif"):
        return "animated_gif"
    if category.endswith("video"):
        return "video"
    return "photo"


def media_is_attachable(media: Media, now: float) -> bool:
    if media.finalized_at is None or now >= media.expires_at:
        return False
    info = processing_info(media, now)
    return info is None or info["state"] == "succeeded"


def processing_info(media: Media, now: float) -> dict[str, Any] | None:
    """pending for the first quarter of the processing time, then in_progress, then done."""
    if media.media_category not in PROCESSED_CATEGORIES or media.finalized_at is None:
        return None
    elapsed = now - media.finalized_at
    if elapsed >= media.processing_seconds:
        if media.processing_outcome == "failed":
            return {"state": "failed", "progress_percent": 100, "error": PROCESSING_FAILED_ERROR}
        return {"state": "succeeded", "progress_percent": 100}
    if elapsed < media.processing_seconds / 4:
        return {"state": "pending", "check_after_secs": 1}
    return {
        "state": "in_progress",
        "check_after_secs": math.ceil(media.processing_seconds - elapsed),
        "progress_percent": int(100 * elapsed / media.processing_seconds),
    }


def initialize_upload(world: World, request: Request, caller: Caller) -> Response:
    try:
        body = request.json()
    except ValueError:
        return _invalid(world, "body", "", "Request body is not valid JSON.")
    errors = schema_errors(body, INITIALIZE_REQUEST)
    if errors:
        return problems.invalid_request(world.problem_host, errors)
    category = body.get("media_category") or _default_category(body["media_type"])
    if body["total_bytes"] > MAX_BYTES_BY_CATEGORY[category]:
        return _too_large(world, body["total_bytes"], category)
    with world.lock:
        media = _new_media(
            world,
            caller,
            media_type=body["media_type"],
            category=category,
            total_bytes=body["total_bytes"],
        )
        world.stats.media["initialized"] += 1
    return Response(
        200,
        {
            "data": {
                "id": media.id,
                "media_key": media.media_key,
                "expires_after_secs": UPLOAD_SESSION_SECONDS,
            }
        },
    )


def append_upload(world: World, request: Request, caller: Caller) -> Response:
    try:
        fields = _upload_fields(request)
    except ValueError:
        return _invalid(
            world, "media", "", "The request body could not be read as multipart/form-data."
        )
    raw_index = fields.get("segment_index", b"").decode("ascii", errors="replace")
    if not raw_index.isdigit() or int(raw_index) > MAX_SEGMENT_INDEX:
        return _invalid(
            world,
            "segment_index",
            raw_index,
            f"The `segment_index` value [{raw_index}] is not between 0 and {MAX_SEGMENT_INDEX}",
        )
    if "media" not in fields:
        return _invalid(world, "media", "", "The `media` field is missing but it is required")
    with world.lock:
        media = _open_upload(world, caller, request.path_params["id"])
        if media is None:
            return _unknown_media(world, request.path_params["id"])
        media.segment_sizes[int(raw_index)] = len(fields["media"])
        world.stats.media["segments_appended"] += 1
    return Response(200, {"data": {"expires_at": int(media.expires_at)}})  # [inf] body


def finalize_upload(world: World, request: Request, caller: Caller) -> Response:
    with world.lock:
        media = _open_upload(world, caller, request.path_params["id"])
        if media is None:
            return _unknown_media(world, request.path_params["id"])
        received = sum(media.segment_sizes.values())
        if received != media.total_bytes:
            # [inf] v1.1 wording; v2's is not quoted anywhere.
            return _invalid(
                world, "id", media.id, "Segments do not add up to provided total file size."
            )
        _finish(world, media)
        world.stats.media["finalized"] += 1
        return Response(200, {"data": _upload_description(media, world.now())})


def upload_status(world: World, request: Request, caller: Caller) -> Response:
    command = request.query.get("command", "")
    if command != "STATUS":
        return _invalid(
            world, "command", command, f"The `command` value [{command}] is not one of [STATUS]"
        )
    media_id = request.query.get("media_id", "")
    with world.lock:
        media = world.media.get(media_id)
        if media is None or media.owner_id != caller.user_id:
            return _unknown_media(world, media_id)
        return Response(200, {"data": _upload_description(media, world.now())})


def one_shot_upload(world: World, request: Request, caller: Caller) -> Response:
    """POST /2/media/upload: images and subtitles in one request, multipart or base64 JSON."""
    try:
        fields = _upload_fields(request)
    except ValueError:
        return _invalid(world, "media", "", "The request body could not be read.")
    category = fields.get("media_category", b"").decode("ascii", errors="replace")
    if "media" not in fields or category not in ONE_SHOT_CATEGORIES:
        return _invalid(
            world,
            "media_category",
            category,
            f"The `media_category` value [{category}] is not one of "
            f"[{', '.join(sorted(ONE_SHOT_CATEGORIES))}]",
        )
    size = len(fields["media"])
    if size > MAX_BYTES_BY_CATEGORY[category]:
        return _too_large(world, size, category)
    media_type = fields.get("media_type", b"image/jpeg").decode("ascii", errors="replace")
    with world.lock:
        media = _new_media(
            world, caller, media_type=media_type, category=category, total_bytes=size
        )
        media.segment_sizes[0] = size
        _finish(world, media)
        world.stats.media["uploaded_one_shot"] += 1
        return Response(200, {"data": _upload_description(media, world.now())})


def create_metadata(world: World, request: Request, caller: Caller) -> Response:
    """POST /2/media/metadata: alt text for an upload of the caller's, before it is posted.

    [doc] request and answer shapes. [inf] which media may take metadata: any upload of
    the caller's that has not expired, finalized or not; X documents no restriction in v2
    (v1.1 said images and GIFs only).
    """
    try:
        body = request.json()
    except ValueError:
        return _invalid(world, "body", "", "Request body is not valid JSON.")
    errors = schema_errors(body, METADATA_REQUEST)
    if errors:
        return problems.invalid_request(world.problem_host, errors)
    alt_text = body.get("metadata", {}).get("alt_text")
    with world.lock:
        media = world.media.get(body["id"])
        if media is None or media.owner_id != caller.user_id or world.now() >= media.expires_at:
            return _unknown_media(world, body["id"])
        if alt_text is not None:
            media.alt_text = alt_text["text"]
        world.stats.media["metadata_created"] += 1
        associated = {"alt_text": {"text": media.alt_text}} if media.alt_text else {}
    return Response(200, {"data": {"associated_metadata": associated, "id": media.id}})


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """Field name to raw bytes. Small on purpose: no files on disk, no streaming."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise ValueError("not multipart/form-data")
    fields: dict[str, bytes] = {}
    # Every delimiter, the first included, is then preceded by CRLF (RFC 2046 §5.1.1).
    parts = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    for part in parts[1:]:
        if part.startswith(b"--"):
            return fields
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator:
            raise ValueError("part without a blank line after its headers")
        part_headers = BytesHeaderParser().parsebytes(head.lstrip(b"\r\n") + b"\r\n\r\n")
        name = part_headers.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields[name] = content
    raise ValueError("multipart body without its closing delimiter")


def _upload_fields(request: Request) -> dict[str, bytes]:
    content_type = request.header("content-type")
    if content_type.startswith("application/json"):
        body = request.json()
        if not isinstance(body, dict):
            raise ValueError("JSON body is not an object")
        encoded = body.get("media", "")
        if not isinstance(encoded, str):
            raise ValueError("media is not a base64 string")
        try:
            media = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise ValueError("media is not base64") from error
        fields = {name: str(value).encode() for name, value in body.items() if name != "media"}
        return {**fields, "media": media} if "media" in body else fields
    return parse_multipart(content_type, request.body)


def _default_category(media_type: str) -> str:
    """[inf] what X assumes when media_category is left out."""
    if media_type == "image/gif":
        return "tweet_gif"
    if media_type.startswith("video/"):
        return "tweet_video"
    return "tweet_image"


def _new_media(
    world: World, caller: Caller, *, media_type: str, category: str, total_bytes: int
) -> Media:
    media_id = world.next_id()
    media = Media(
        id=media_id,
        media_key=f"{_media_key_prefix(category)}_{media_id}",
        owner_id=caller.user_id,
        media_type=media_type,
        media_category=category,
        total_bytes=total_bytes,
        expires_at=world.now() + UPLOAD_SESSION_SECONDS,
    )
    world.media[media_id] = media
    return media


def _media_key_prefix(category: str) -> str:
    """The number X puts before the id in a media key; amplify video has its own."""
    if category == "amplify_video":
        return "13"
    return {"animated_gif": "16", "video": "7", "photo": "3"}[_category_kind(category)]


def _open_upload(world: World, caller: Caller, media_id: str) -> Media | None:
    """An upload this caller started, not finalized and not expired."""
    media = world.media.get(media_id)
    if (
        media is None
        or media.owner_id != caller.user_id
        or media.finalized_at is not None
        or world.now() >= media.expires_at
    ):
        return None
    return media


def _finish(world: World, media: Media) -> None:
    now = world.now()
    media.finalized_at = now
    media.expires_at = now + FINALIZED_MEDIA_SECONDS
    media.processing_seconds = world.settings.media_processing_seconds
    media.processing_outcome = world.settings.media_processing_outcome


def _upload_description(media: Media, now: float) -> dict[str, Any]:
    description: dict[str, Any] = {
        "id": media.id,
        "media_key": media.media_key,
        "size": sum(media.segment_sizes.values()),
        "expires_after_secs": max(0, int(media.expires_at - now)),
    }
    info = processing_info(media, now)
    if info is not None:
        description["processing_info"] = info
    return description


def _invalid(world: World, parameter: str, value: Any, message: str) -> Response:
    return problems.invalid_request(
        world.problem_host, [problems.parameter_error(parameter, value, message)]
    )


def _too_large(world: World, size: int, category: str) -> Response:
    """[inf] wording; the limits themselves are [doc]."""
    limit = MAX_BYTES_BY_CATEGORY[category]
    return _invalid(
        world,
        "total_bytes",
        str(size),
        f"File size exceeds {limit} bytes, the limit for media_category {category}.",
    )


def _unknown_media(world: World, media_id: str) -> Response:
    """[inf] X's wording for an id that is not yours, unknown, finished or expired."""
    return _invalid(world, "media_id", media_id, f"The `media_id` value [{media_id}] is not valid")
