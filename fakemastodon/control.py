"""Drive the fake Mastodon from tests: a client for /_fake/ and two ways to run the server.

In this process, for unit tests::

    with fake_mastodon_server() as fm:
        alice = fm.control.create_connected_account(username="alice")
        requests.post(f"{fm.url}/api/v1/statuses", json={"status": "hi"}, headers=alice.headers)
        assert fm.control.statuses_created(alice.id, "hi") == 1

As a subprocess, for the chaos run and benchmarks: ``with FakeMastodonProcess() as fm:``
with the same ``fm.url`` and ``fm.control``.

The calls for faults, the clock, statistics and reset are fakex's (the control API
shares them); this client adds the instance's scene.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fakemastodon.server import make_server
from fakex.control import FakeXControl, FakeXProcess, served

LISTENING_PREFIX = "fakemastodon listening on "


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    username: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class FakeMastodonControl(FakeXControl):
    """One method per control call; each returns the decoded JSON answer.

    Inherited from fakex: reset, stats, set_time_offset, advance_time, add_fault,
    set_fault_rates, clear_faults, faults, and set_media_processing (how long a video
    or GIF takes, and whether it ends `succeeded` or `failed`). fakex's calls for X's
    users, posts and other settings are not answered here (404).
    """

    # Scene

    def create_account(self, *, username: str, **fields: Any) -> dict[str, Any]:
        """Fields: id, display_name, followers_count, following_count, note, disabled."""
        return self._call("POST", "/_fake/accounts", {"username": username, **fields})

    def update_account(self, account_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/_fake/accounts", {"id": account_id, **fields})

    def create_connected_account(
        self, *, username: str, scopes: list[str] | None = None, **fields: Any
    ) -> ConnectedAccount:
        """An account plus an access token, ready to call the API."""
        account = self.create_account(username=username, **fields)
        token = self.issue_token(account["id"], scopes=scopes)
        return ConnectedAccount(
            id=account["id"], username=account["username"], access_token=token["access_token"]
        )

    def issue_token(self, account_id: str, *, scopes: list[str] | None = None) -> dict[str, Any]:
        body = {} if scopes is None else {"scopes": scopes}
        return self._call("POST", f"/_fake/accounts/{account_id}/tokens", body)

    def revoke_tokens(self, account_id: str) -> dict[str, Any]:
        return self._call("POST", f"/_fake/accounts/{account_id}/revoke-tokens")

    def log_in(self, account_id: str) -> dict[str, Any]:
        return self._call("PUT", "/_fake/login", {"account_id": account_id})

    def set_configuration(self, **fields: int) -> dict[str, Any]:
        """max_characters, max_media_attachments, characters_reserved_per_url, image_size_limit,
        video_size_limit, description_limit."""
        return self._call("PATCH", "/_fake/configuration", fields)

    def rate_limits(self) -> dict[str, Any]:
        """`{"limits": {throttle: {"limit": …, "period_seconds": …}}}`."""
        return self._call("GET", "/_fake/rate-limits")

    def set_rate_limit(
        self, throttle: str, *, limit: int, period_seconds: int | None = None
    ) -> dict[str, Any]:
        """Throttles: api, statuses, media, delete_status."""
        change: dict[str, Any] = {"limit": limit}
        if period_seconds is not None:
            change["period_seconds"] = period_seconds
        return self._call("PUT", "/_fake/rate-limits", {"limits": {throttle: change}})

    def set_status_counts(self, status_id: str, **counts: int) -> dict[str, Any]:
        """replies_count, reblogs_count, favourites_count, quotes_count."""
        return self._call("PUT", f"/_fake/statuses/{status_id}/counts", counts)

    # What happened

    def statuses(self, *, account_id: str | None = None, include_deleted: bool = False) -> list:
        params: dict[str, str] = {}
        if account_id is not None:
            params["account_id"] = account_id
        if include_deleted:
            params["include_deleted"] = "true"
        return self._call("GET", "/_fake/statuses", params=params)["statuses"]

    def media_uploads(self) -> list[dict]:
        return self._call("GET", "/_fake/media")["media"]

    def apps(self) -> list[dict]:
        return self._call("GET", "/_fake/apps")["apps"]

    def statuses_created(self, account_id: str, text: str) -> int:
        """How many statuses with exactly this text the account created (replays not counted)."""
        return _count(self.stats()["statuses_created"], account_id, text)

    def idempotent_replays(self, account_id: str, text: str) -> int:
        return _count(self.stats()["idempotent_replays"], account_id, text)


@dataclass
class RunningFakeMastodon:
    url: str
    control: FakeMastodonControl


@contextmanager
def fake_mastodon_server(*, host: str = "127.0.0.1") -> Iterator[RunningFakeMastodon]:
    """The fake on a free port in a background thread of this process."""
    with served(make_server(host, 0)) as url:
        yield RunningFakeMastodon(url=url, control=FakeMastodonControl(url))


class FakeMastodonProcess(FakeXProcess):
    """The fake as `python -m fakemastodon` in a subprocess on a free port."""

    name = "fake Mastodon"
    listening_prefix = LISTENING_PREFIX
    control_class = FakeMastodonControl

    def __init__(
        self, *, host: str = "127.0.0.1", python: str = sys.executable, **options: Any
    ) -> None:
        super().__init__(host=host, python=python, **options)
        self.command = [python, "-m", "fakemastodon", "--host", host, "--port", "0"]

    @property
    def control(self) -> FakeMastodonControl:
        control = super().control
        assert isinstance(control, FakeMastodonControl)
        return control


def _count(entries: list[dict[str, Any]], account_id: str, text: str) -> int:
    return sum(
        entry["count"]
        for entry in entries
        if entry["account_id"] == account_id and entry["text"] == text
    )
