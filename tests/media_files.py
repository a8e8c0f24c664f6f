"""Real media files made in memory for tests: images by Pillow, a minimal MP4 by hand."""

import io
import struct

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_upload(name="photo.png", *, size=(64, 48), image_format="PNG", frames=1, claimed=""):
    """An image file; `claimed` is the content type a browser would send (ignored)."""
    buffer = io.BytesIO()
    images = [Image.new("RGB", size, (40 * n % 255, 120, 200)) for n in range(frames)]
    extra = {"save_all": True, "append_images": images[1:]} if frames > 1 else {}
    images[0].save(buffer, format=image_format, **extra)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=claimed or "image/png")


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4_bytes(*, width=1280, height=720, seconds=12.5, timescale=1000, mdat_bytes=64) -> bytes:
    """The smallest MP4 a parser reads as a video: ftyp, and moov with mvhd and a track;
    `mdat_bytes` of media data make it as large as a test needs."""
    duration = int(seconds * timescale)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, timescale, duration)
        + struct.pack(">IH", 0x00010000, 0x0100)
        + b"\0" * 10
        + matrix
        + b"\0" * 24
        + struct.pack(">I", 2),
    )
    tkhd = _box(
        b"tkhd",
        struct.pack(">B3sIIIII", 0, b"\0\0\3", 0, 0, 1, 0, duration)
        + b"\0" * 8
        + struct.pack(">hhhH", 0, 0, 0, 0)
        + matrix
        + struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _box(b"mdhd", struct.pack(">B3xIIIIHH", 0, 0, 0, timescale, duration, 0x55C4, 0))
    hdlr = _box(b"hdlr", b"\0" * 8 + b"vide" + b"\0" * 12 + b"VideoHandler\0")
    moov = _box(b"moov", mvhd + _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr)))
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    return ftyp + moov + _box(b"mdat", b"\0" * mdat_bytes)


def video_upload(name="clip.mp4", **kwargs):
    return SimpleUploadedFile(name, mp4_bytes(**kwargs), content_type="video/mp4")
