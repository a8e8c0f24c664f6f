"""Drive the fake Bluesky from tests: a client for /_fake/ and two ways to run the server.

In this process, for unit tests::

    with fake_bluesky_server() as bsky:
        alice = bsky.control.create_signed_in_account(handle="alice.bsky.social")
        create = f"{bsky.url}/xrpc/com.atproto.repo.createRecord"
        requests.post(create, json=..., headers=alice.headers)
        assert bsky.control.posts_created(alice.did, "hi") == 1

As a subprocess, for the chaos run and benchmarks: ``with FakeBlueskyProcess() as bsky:``
with the same ``bsky.url`` and ``bsky.control``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from fakebluesky.__main__ import LISTENING_PREFIX
from fakebluesky.server import make_server
from fakex.control import FakeXControl, FakeXProcess, _count_for, _without_none


@dataclass(frozen=True)
class SignedInAccount:
    did: str
    handle: str
    app_password: str
    access_jwt: str
    refresh_jwt: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_jwt}"}


class FakeBlueskyControl:
    """One method per control call; each returns the decoded JSON answer."""

    def __init__(self, url: str, *, session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.session = session or requests.Session()

    # The calls every fake shares, as fakex's control client makes them.
    _call = FakeXControl._call
    reset = FakeXControl.reset
    stats = FakeXControl.stats
    set_time_offset = FakeXControl.set_time_offset
    advance_time = FakeXControl.advance_time
    add_fault = FakeXControl.add_fault
    set_fault_rates = FakeXControl.set_fault_rates
    clear_faults = FakeXControl.clear_faults
    faults = FakeXControl.faults

    # Scene

    def create_account(self, *, handle: str, **fields: Any) -> dict[str, Any]:
        """Fields: did, app_password, email, display_name, avatar, followers_count, status."""
        return self._call("POST", "/_fake/accounts", {"handle": handle, **fields})

    def update_account(self, did: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/_fake/accounts", {"did": did, **fields})

    def open_session(self, did: str) -> dict[str, Any]:
        return self._call("POST", f"/_fake/accounts/{did}/sessions")

    def create_signed_in_account(self, *, handle: str, **fields: Any) -> SignedInAccount:
        """An account plus a session, ready to call the API."""
        account = self.create_account(handle=handle, **fields)
        session = self.open_session(account["did"])
        return SignedInAccount(
            did=account["did"],
            handle=account["handle"],
            app_password=account["app_password"],
            access_jwt=session["accessJwt"],
            refresh_jwt=session["refreshJwt"],
        )

    def end_sessions(self, did: str) -> dict[str, Any]:
        """What revoking the app password does: its sessions stop working."""
        return self._call("POST", f"/_fake/accounts/{did}/end-sessions")

    # Limits

    def rate_limits(self) -> dict[str, Any]:
        return self._call("GET", "/_fake/rate-limits")

    def set_rate_limit(
        self, window: str, *, limit: int, period_seconds: int | None = None
    ) -> dict[str, Any]:
        change = _without_none(limit=limit, period_seconds=period_seconds)
        return self._call("PUT", "/_fake/rate-limits", {"limits": {window: change}})

    def set_video_processing(
        self, *, seconds: float | None = None, outcome: str | None = None
    ) -> dict[str, Any]:
        """How long later video uploads take to process, and whether they succeed or fail."""
        changes = _without_none(processing_seconds=seconds, outcome=outcome)
        return self._call("PATCH", "/_fake/video", changes)

    # What happened

    def posts(self, *, did: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/_fake/posts", params=_without_none(did=did))["posts"]

    def set_post_metrics(self, uri: str, **counts: int) -> dict[str, Any]:
        """Counts: likeCount, repostCount, replyCount, quoteCount, bookmarkCount."""
        return self._call("PUT", "/_fake/post-metrics", {"uri": uri, **counts})

    def set_post_unlisted(self, uri: str, unlisted: bool = True) -> dict[str, Any]:
        """Whether the AppView shows the post (as before it is indexed); the PDS keeps it."""
        return self._call("PUT", "/_fake/post-unlisted", {"uri": uri, "unlisted": unlisted})

    def blobs(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_fake/blobs")["blobs"]

    def posts_created(self, did: str, text: str) -> int:
        """How many post records with exactly this text the account created."""
        return _count_for(_as_users(self.stats()["posts_created"]), did, text)

    def existing_record_refusals(self, did: str, text: str) -> int:
        return _count_for(_as_users(self.stats()["existing_record_refusals"]), did, text)


def _as_users(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """fakex counts per `user_id`; here the account is its DID."""
    return [{**entry, "user_id": entry["did"]} for entry in entries]


@dataclass
class RunningFakeBluesky:
    url: str
    control: FakeBlueskyControl


@contextmanager
def fake_bluesky_server(*, host: str = "127.0.0.1") -> Iterator[RunningFakeBluesky]:
    """The fake on a free port in a background thread of this process."""
    server = make_server(host, 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fakebluesky", daemon=True
    )
    thread.start()
    try:
        yield RunningFakeBluesky(url=server.url, control=FakeBlueskyControl(server.url))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FakeBlueskyProcess(FakeXProcess):
    """The fake as `python -m fakebluesky` in a subprocess on a free port, run as fakex's."""

    listening_prefix = LISTENING_PREFIX
    control_class = FakeBlueskyControl

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        python: str = sys.executable,
        startup_timeout: float = 15.0,
    ) -> None:
        super().__init__(host=host, python=python, startup_timeout=startup_timeout)
        self.command = [python, "-m", "fakebluesky", "--host", host, "--port", "0"]
