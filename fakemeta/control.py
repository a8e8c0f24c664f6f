"""Drive the fake Graph API from tests: a client for /_fake/ and two ways to run the server.

In this process, for unit tests::

    with fake_meta_server() as fm:
        scene = fm.control.create_page_scene(page_name="Bakery", instagram_username="bakery")
        requests.post(f"{fm.url}/v27.0/{scene.page_id}/feed",
                      data={"message": "hi", "access_token": scene.page_token})
        assert fm.control.posts_created(scene.page_id, "hi") == 1

As a subprocess, for the chaos run and benchmarks: ``with FakeMetaProcess() as fm:``
with the same ``fm.url`` and ``fm.control``.

The calls for faults, the clock, statistics and reset are fakex's (the control API
shares them); this client adds the Graph API's scene.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fakemeta.server import make_server
from fakemeta.state import APP_ID, APP_SECRET
from fakex.control import FakeXControl, FakeXProcess, served

LISTENING_PREFIX = "fakemeta listening on "

__all__ = ["APP_ID", "APP_SECRET", "FakeMetaControl", "FakeMetaProcess", "fake_meta_server"]


@dataclass(frozen=True)
class PageScene:
    """A person, one Page they manage (with its Instagram account, if asked) and tokens."""

    user_id: str
    page_id: str
    page_token: str
    instagram_id: str | None = None


class FakeMetaControl(FakeXControl):
    """One method per control call; each returns the decoded JSON answer.

    Inherited from fakex: reset, stats, set_time_offset, advance_time, add_fault,
    set_fault_rates, clear_faults, faults. fakex's calls for X's users, posts and
    other settings are not answered here (404).
    """

    # Scene

    def create_person(self, *, name: str = "Person") -> dict[str, Any]:
        return self._call("POST", "/_fake/users", {"name": name})

    def create_page(self, *, user_id: str, name: str, **fields: Any) -> dict[str, Any]:
        """Fields: instagram_username, instagram_name, followers_count."""
        return self._call("POST", "/_fake/pages", {"user_id": user_id, "name": name, **fields})

    def issue_token(
        self, user_id: str, *, page_id: str | None = None, scopes: list[str] | None = None
    ) -> str:
        body: dict[str, Any] = {} if scopes is None else {"scopes": scopes}
        if page_id is not None:
            body["page_id"] = page_id
        return self._call("POST", f"/_fake/users/{user_id}/tokens", body)["access_token"]

    def create_page_scene(
        self,
        *,
        page_name: str = "Kairos Bakery",
        instagram_username: str | None = None,
        scopes: list[str] | None = None,
    ) -> PageScene:
        person = self.create_person(name=f"Owner of {page_name}")
        fields = {"instagram_username": instagram_username} if instagram_username else {}
        page = self.create_page(user_id=person["id"], name=page_name, **fields)
        return PageScene(
            user_id=person["id"],
            page_id=page["id"],
            page_token=self.issue_token(person["id"], page_id=page["id"], scopes=scopes),
            instagram_id=page["instagram_id"],
        )

    def revoke_tokens(self, user_id: str) -> dict[str, Any]:
        return self._call("POST", f"/_fake/users/{user_id}/revoke-tokens")

    def expire_tokens(self, user_id: str) -> dict[str, Any]:
        return self._call("POST", f"/_fake/users/{user_id}/expire-tokens")

    def log_in(self, user_id: str, *, granted_scopes: list[str] | None = None) -> dict[str, Any]:
        return self._call(
            "PUT", "/_fake/login", {"user_id": user_id, "granted_scopes": granted_scopes}
        )

    def set_meta_settings(self, **fields: Any) -> dict[str, Any]:
        """video_processing_seconds, quota_total, duplicate_window_seconds,
        object_calls_per_hour, app_calls_per_hour."""
        return self._call("PATCH", "/_fake/settings", fields)

    def set_counts(self, post_id: str, **counts: int) -> dict[str, Any]:
        """likes, comments, shares, views, reach, saved."""
        return self._call("PUT", f"/_fake/posts/{post_id}/counts", counts)

    # What happened

    def graph_posts(self, *, owner_id: str | None = None, include_deleted: bool = False) -> list:
        params: dict[str, str] = {}
        if owner_id is not None:
            params["owner_id"] = owner_id
        if include_deleted:
            params["include_deleted"] = "true"
        return self._call("GET", "/_fake/posts", params=params)["posts"]

    def containers(self) -> list[dict]:
        return self._call("GET", "/_fake/containers")["containers"]

    def posts_created(self, owner_id: str, text: str) -> int:
        """How many Page posts or Instagram media with exactly this text the owner made."""
        return sum(
            entry["count"]
            for entry in self.stats()["posts_created"]
            if entry["owner_id"] == owner_id and entry["text"] == text
        )


@dataclass
class RunningFakeMeta:
    url: str
    control: FakeMetaControl


@contextmanager
def fake_meta_server(*, host: str = "127.0.0.1") -> Iterator[RunningFakeMeta]:
    """The fake on a free port in a background thread of this process."""
    with served(make_server(host, 0)) as url:
        yield RunningFakeMeta(url=url, control=FakeMetaControl(url))


class FakeMetaProcess(FakeXProcess):
    """The fake as `python -m fakemeta` in a subprocess on a free port."""

    name = "fake Graph API"
    listening_prefix = LISTENING_PREFIX
    control_class = FakeMetaControl

    def __init__(
        self, *, host: str = "127.0.0.1", python: str = sys.executable, **options: Any
    ) -> None:
        super().__init__(host=host, python=python, **options)
        self.command = [python, "-m", "fakemeta", "--host", host, "--port", "0"]

    @property
    def control(self) -> FakeMetaControl:
        control = super().control
        assert isinstance(control, FakeMetaControl)
        return control
