"""Media files: what a file is, read from the file itself, and keeping it in the library.

The kind, type, size and dimensions a network's rules are checked against come
from the bytes, never from what a browser or a person claims: Pillow reads
images (its decoder names the format; an animated GIF is a GIF), hachoir reads
videos (container, duration, width, height). The stored size is the file's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from hachoir.metadata import extractMetadata
from hachoir.parser import guessParser
from hachoir.stream import InputIOStream
from PIL import Image, UnidentifiedImageError

from accounts.models import Workspace
from accounts.services import audit_record
from posts.models import MediaAsset, PartMedia, PostPart

# What Pillow calls the formats networks take, as MIME types.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
# A big photo is fine; a decompression bomb is not.
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class MediaFacts:
    kind: str
    mime_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None


def media_facts_read(*, file: UploadedFile) -> MediaFacts:
    """What the file is, from its bytes. Raises ValidationError naming the file when it
    is not an image or a video a network takes."""
    name = file.name or "the file"
    image = _image_facts(file)
    if image is not None:
        return image
    video = _video_facts(file)
    if video is not None:
        return video
    raise ValidationError(
        f"{name} is neither an image (JPEG, PNG, GIF, WebP) nor a video (MP4, MOV) that "
        "Kairos can read; export it in one of those formats."
    )


def _image_facts(file: UploadedFile) -> MediaFacts | None:
    file.seek(0)
    try:
        with Image.open(file) as image:
            image_format, (width, height) = image.format, image.size
            animated = getattr(image, "is_animated", False)
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        return None
    except Image.DecompressionBombError:
        raise ValidationError(
            f"{file.name} is an image of more than {MAX_PIXELS:,} pixels; shrink it first."
        ) from None
    finally:
        file.seek(0)
    if image_format not in IMAGE_TYPES:
        return None
    kind = MediaAsset.Kind.GIF if image_format == "GIF" or animated else MediaAsset.Kind.IMAGE
    return MediaFacts(
        kind=kind,
        mime_type=IMAGE_TYPES[image_format],
        size_bytes=file.size,
        width=width,
        height=height,
    )


def _video_facts(file: UploadedFile) -> MediaFacts | None:
    file.seek(0)
    try:
        parser = guessParser(InputIOStream(file, source=file.name))
        if parser is None or parser.mime_type not in VIDEO_TYPES:
            return None
        mime_type = parser.mime_type
        metadata = extractMetadata(parser)
    except Exception:  # hachoir raises many kinds on a file it cannot read
        return None
    finally:
        file.seek(0)
    if metadata is None:
        return None
    duration = metadata.get("duration", None)
    return MediaFacts(
        kind=MediaAsset.Kind.VIDEO,
        mime_type=mime_type,
        size_bytes=file.size,
        width=metadata.get("width", None),
        height=metadata.get("height", None),
        duration_ms=round(duration.total_seconds() * 1000) if duration else None,
    )


@transaction.atomic
def media_asset_create(
    *, workspace: Workspace, file: UploadedFile, actor, alt_text: str = ""
) -> MediaAsset:
    """Keep a file in the workspace's library, with the facts read from it."""
    facts = media_facts_read(file=file)
    asset = MediaAsset(
        workspace=workspace,
        kind=facts.kind,
        mime_type=facts.mime_type,
        size_bytes=facts.size_bytes,
        width=facts.width,
        height=facts.height,
        duration_ms=facts.duration_ms,
        alt_text=alt_text.strip(),
    )
    asset.file.save(file.name, file, save=False)
    asset.save()
    audit_record(
        workspace=workspace,
        actor=actor,
        action="media.added",
        subject=asset,
        data={"file": asset.file.name, "kind": facts.kind, "size_bytes": facts.size_bytes},
    )
    return asset


@transaction.atomic
def part_media_set(*, part: PostPart, assets: list[MediaAsset], actor) -> None:
    """Attach exactly these files to the part, in this order; record what changed."""
    foreign = [asset for asset in assets if asset.workspace_id != part.post.workspace_id]
    if foreign:
        names = ", ".join(str(asset) for asset in foreign)
        raise ValidationError(f"{names}: file(s) of another workspace's library.")
    before = [str(asset) for asset in part.media.order_by("partmedia__position")]
    after = [str(asset) for asset in assets]
    if before == after:
        return
    PartMedia.objects.filter(part=part).delete()
    PartMedia.objects.bulk_create(
        PartMedia(part=part, asset=asset, position=position)
        for position, asset in enumerate(assets)
    )
    audit_record(
        workspace=part.post.workspace,
        actor=actor,
        action="post.media_changed",
        subject=part.post,
        data={"part": part.position + 1, "media": [before, after]},
    )
