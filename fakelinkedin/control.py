"""Drive the fake LinkedIn from tests: a client for /_fake/ and two ways to run the server.

In this process, for unit tests::

    with fake_linkedin_server() as fl:
        scene = fl.control.create_organization_scene(name="Kairos Bakery")
        requests.post(f"{fl.url}/rest/posts", json={...}, headers=scene.headers(...))
        assert fl.control.posts_created(scene.organization_urn, "hi") == 1

As a subprocess, for the chaos run and benchmarks: ``with FakeLinkedInProcess() as fl:``
with the same ``fl.url`` and ``fl.control``.

The calls for faults, the clock, statistics and reset are fakex's (the control API
shares them); this client adds LinkedIn's scene.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fakelinkedin.server import make_server
from fakelinkedin.state import CLIENT_ID, CLIENT_SECRET
from fakex.control import FakeXControl, FakeXProcess, served

LISTENING_PREFIX = "fakelinkedin listening on "

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "FakeLinkedInControl",
    "FakeLinkedInProcess",
    "fake_linkedin_server",
]


@dataclass(frozen=True)
class MemberScene:
    """A member, the organization they administer (if asked), and a token."""

    member_id: str
    member_urn: str
    access_token: str
    organization_id: str | None = None
    organization_urn: str | None = None
    refresh_token: str | None = None


class FakeLinkedInControl(FakeXControl):
    """One method per control call; each returns the decoded JSON answer.

    Inherited from fakex: reset, stats, set_time_offset, advance_time, add_fault,
    set_fault_rates, clear_faults, faults. fakex's calls for X's users, posts and
    other settings are not answered here (404).
    """

    def create_member(self, *, name: str = "Member", **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/_fake/members", {"name": name, **fields})

    def create_organization(
        self, *, name: str, admin_id: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Fields: vanity_name, role (ADMINISTRATOR), state (APPROVED)."""
        body = {"name": name, **fields}
        if admin_id is not None:
            body["admin_id"] = admin_id
        return self._call("POST", "/_fake/organizations", body)

    def issue_token(self, member_id: str, *, scopes: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {} if scopes is None else {"scopes": scopes}
        return self._call("POST", f"/_fake/members/{member_id}/tokens", body)

    def create_scene(
        self,
        *,
        name: str = "Ada Lovelace",
        organization: str | None = None,
        scopes: list[str] | None = None,
    ) -> MemberScene:
        member = self.create_member(name=name)
        org = (
            self.create_organization(name=organization, admin_id=member["id"])
            if organization
            else {}
        )
        token = self.issue_token(member["id"], scopes=scopes)
        return MemberScene(
            member_id=member["id"],
            member_urn=member["urn"],
            access_token=token["access_token"],
            organization_id=org.get("id"),
            organization_urn=org.get("urn"),
            refresh_token=token.get("refresh_token"),
        )

    def revoke_tokens(self, member_id: str) -> dict[str, Any]:
        return self._call("POST", f"/_fake/members/{member_id}/revoke-tokens")

    def expire_tokens(self, member_id: str) -> dict[str, Any]:
        return self._call("POST", f"/_fake/members/{member_id}/expire-tokens")

    def log_in(
        self, member_id: str | None, *, granted_scopes: list[str] | None = None
    ) -> dict[str, Any]:
        return self._call(
            "PUT", "/_fake/login", {"member_id": member_id, "granted_scopes": granted_scopes}
        )

    def set_linkedin_settings(self, **fields: Any) -> dict[str, Any]:
        """refresh_tokens, duplicate_window_seconds, image_processing_seconds,
        daily_post_limit, video_processing_seconds, video_part_bytes, versions_as_of."""
        return self._call("PATCH", "/_fake/settings", fields)

    def set_counts(self, urn: str, **counts: int) -> dict[str, Any]:
        """likes, comments, shares, impressions, clicks, members_reached."""
        return self._call("PUT", f"/_fake/posts/{quote(urn, safe='')}/counts", counts)

    def linkedin_posts(self, *, author: str | None = None, include_deleted: bool = False) -> list:
        params: dict[str, str] = {}
        if author is not None:
            params["author"] = author
        if include_deleted:
            params["include_deleted"] = "true"
        return self._call("GET", "/_fake/posts", params=params)["posts"]

    def posts_created(self, author: str, text: str) -> int:
        """How many posts with exactly this commentary (as sent) the author made."""
        return sum(
            entry["count"]
            for entry in self.stats()["posts_created"]
            if entry["author"] == author and entry["text"] == text
        )


@dataclass
class RunningFakeLinkedIn:
    url: str
    control: FakeLinkedInControl


@contextmanager
def fake_linkedin_server(*, host: str = "127.0.0.1") -> Iterator[RunningFakeLinkedIn]:
    """The fake on a free port in a background thread of this process."""
    with served(make_server(host, 0)) as url:
        yield RunningFakeLinkedIn(url=url, control=FakeLinkedInControl(url))


class FakeLinkedInProcess(FakeXProcess):
    """The fake as `python -m fakelinkedin` in a subprocess on a free port."""

    name = "fake LinkedIn"
    listening_prefix = LISTENING_PREFIX
    control_class = FakeLinkedInControl

    def __init__(
        self, *, host: str = "127.0.0.1", python: str = sys.executable, **options: Any
    ) -> None:
        super().__init__(host=host, python=python, **options)
        self.command = [python, "-m", "fakelinkedin", "--host", host, "--port", "0"]

    @property
    def control(self) -> FakeLinkedInControl:
        control = super().control
        assert isinstance(control, FakeLinkedInControl)
        return control
