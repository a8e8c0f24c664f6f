"""A real HTTP server holding files for the fake Graph API to fetch, as Meta fetches a
post's media from the signed Kairos address it is given, and media files that point there."""

from __future__ import annotations

import io
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from publishing.networks.base import MediaFile, MediaKind

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 256


class MediaHost:
    """Files by path; every fetch is counted."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.fetches: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.fetches.append(self.path)
                found = host.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                data, mime_type = found
                self.send_response(200)
                self.send_header("content-type", mime_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def media(
        self,
        asset_id: int,
        *,
        kind: MediaKind = MediaKind.IMAGE,
        mime_type: str = "image/jpeg",
        data: bytes | None = None,
        served: bool = True,
    ) -> MediaFile:
        """A MediaFile whose `url` this host answers (or, with served=False, does not)."""
        data = data if data is not None else (MP4 if kind is MediaKind.VIDEO else JPEG)
        path = f"/library/signed/token-{asset_id}/"
        if served:
            self.files[path] = (data, mime_type)

        @contextmanager
        def opened():
            yield io.BytesIO(data)

        return MediaFile(
            asset_id=asset_id,
            kind=kind,
            mime_type=mime_type,
            size_bytes=len(data),
            name=f"file{asset_id}",
            url=f"{self.url}{path}",
            open=opened,
        )


@contextmanager
def media_host():
    host = MediaHost()
    thread = threading.Thread(target=host.server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield host
    finally:
        host.server.shutdown()
        host.server.server_close()
        thread.join()
