"""Drive the fake X from tests: a client for /_fake/ and two ways to run the server.

In this process, for unit tests::

    with fake_x_server() as fx:
        alice = fx.control.create_connected_user(username="alice")
        requests.post(f"{fx.url}/2/tweets", json={"text": "hi"}, headers=alice.headers)
        assert fx.control.posts_created(alice.id, "hi") == 1

As a subprocess, for the chaos run and benchmarks: ``with FakeXProcess(profile="basic") as fx:``
with the same ``fx.url`` and ``fx.control``.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from fakex.server import FakeXServer, make_server

LISTENING_PREFIX = "fakex listening on "
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class FakeXControlError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"fake X control call failed with {status}: {body}")
        self.status = status


@dataclass(frozen=True)
class ConnectedUser:
    id: str
    username: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class FakeXControl:
    """One method per control call; each returns the decoded JSON answer."""

    def __init__(self, url: str, *, session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.session = session or requests.Session()

    # Scene

    def reset(self) -> dict[str, Any]:
        return self._call("POST", "/_fake/reset")

    def create_user(self, *, username: str, **fields: Any) -> dict[str, Any]:
        """Fields: id, name, subscription_type, followers_count, following_count, description."""
        return self._call("POST", "/_fake/users", {"username": username, **fields})

    def create_connected_user(self, *, username: str, **fields: Any) -> ConnectedUser:
        """A user plus a token pair from the fake's default client, ready to call the API."""
        user = self.create_user(username=username, **fields)
        tokens = self.issue_tokens(user["id"])
        return ConnectedUser(
            id=user["id"],
            username=user["username"],
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """The same upsert as create_user: an unknown id creates the user."""
        return self._call("POST", "/_fake/users", {"id": user_id, **fields})

    def issue_tokens(
        self, user_id: str, *, scopes: list[str] | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        """An OAuth token response, as if the user had connected through `client_id`."""
        body: dict[str, Any] = {}
        if scopes is not None:
            body["scopes"] = scopes
        if client_id is not None:
            body["client_id"] = client_id
        return self._call("POST", f"/_fake/users/{user_id}/tokens", body)

    def revoke_user_tokens(self, user_id: str) -> dict[str, Any]:
        return self._call("POST", f"/_fake/users/{user_id}/revoke-tokens")

    def register_client(
        self, client_id: str, *, redirect_uris: list[str], client_secret: str | None = None
    ) -> dict[str, Any]:
        """A confidential client with a secret, or a public one without."""
        body = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": redirect_uris,
        }
        return self._call("POST", "/_fake/clients", body)

    def log_in(self, user_id: str) -> dict[str, Any]:
        return self._call("PUT", "/_fake/login", {"user_id": user_id})

    # Time

    def set_time_offset(self, seconds: float) -> dict[str, Any]:
        return self._call("PUT", "/_fake/clock", {"offset_seconds": seconds})

    def advance_time(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/_fake/clock/advance", {"seconds": seconds})

    # Limits and behaviour

    def rate_limits(self) -> dict[str, Any]:
        return self._call("GET", "/_fake/rate-limits")

    def set_rate_limit_profile(self, profile: str) -> dict[str, Any]:
        return self._call("PUT", "/_fake/rate-limits", {"profile": profile})

    def set_rate_limit(
        self, window: str, *, limit: int, period_seconds: int | None = None
    ) -> dict[str, Any]:
        change: dict[str, Any] = {"limit": limit}
        if period_seconds is not None:
            change["period_seconds"] = period_seconds
        return self._call("PUT", "/_fake/rate-limits", {"limits": {window: change}})

    def settings(self) -> dict[str, Any]:
        return self._call("GET", "/_fake/settings")

    def set_duplicate_detection(
        self, enabled: bool, *, window_seconds: int | None = None
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {"duplicate_detection": enabled}
        if window_seconds is not None:
            changes["duplicate_window_seconds"] = window_seconds
        return self._settings(changes)

    def set_usage_capped(self, capped: bool) -> dict[str, Any]:
        return self._settings({"usage_capped": capped})

    def set_credits_depleted(self, depleted: bool) -> dict[str, Any]:
        return self._settings({"credits_depleted": depleted})

    def set_media_processing(
        self, *, seconds: float | None = None, outcome: str | None = None
    ) -> dict[str, Any]:
        """How long GIF and video processing takes, and whether it ends `succeeded` or `failed`."""
        changes: dict[str, Any] = {}
        if seconds is not None:
            changes["media_processing_seconds"] = seconds
        if outcome is not None:
            changes["media_processing_outcome"] = outcome
        return self._settings(changes)

    def set_problem_host(self, host: str) -> dict[str, Any]:
        return self._settings({"problem_host": host})

    def set_tco_links(self, enabled: bool) -> dict[str, Any]:
        return self._settings({"tco_links": enabled})

    # Faults

    def add_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        method: str | None = None,
        path_prefix: str | None = None,
        user_id: str | None = None,
        latency_ms: int | None = None,
        status: int | None = None,
        refuse_mode: str | None = None,
    ) -> dict[str, Any]:
        """Kinds: latency, status, accept_then_drop, refuse_before_accept."""
        body = _without_none(
            kind=kind,
            count=count,
            method=method,
            path_prefix=path_prefix,
            user_id=user_id,
            latency_ms=latency_ms,
            status=status,
            refuse_mode=refuse_mode,
        )
        return self._call("POST", "/_fake/faults", body)

    def set_fault_rates(
        self,
        rates: dict[str, float],
        *,
        seed: int = 0,
        method: str | None = None,
        path_prefix: str | None = None,
        user_id: str | None = None,
        latency_ms: int | None = None,
        statuses: list[int] | None = None,
        refuse_mode: str | None = None,
    ) -> dict[str, Any]:
        body = _without_none(
            rates=rates,
            seed=seed,
            method=method,
            path_prefix=path_prefix,
            user_id=user_id,
            latency_ms=latency_ms,
            statuses=statuses,
            refuse_mode=refuse_mode,
        )
        return self._call("PUT", "/_fake/fault-rates", body)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/_fake/faults")

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/_fake/faults")

    # What happened

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_fake/stats")

    def posts(self, *, user_id: str | None = None, include_deleted: bool = False) -> list[dict]:
        params = _without_none(user_id=user_id, include_deleted="true" if include_deleted else None)
        return self._call("GET", "/_fake/posts", params=params)["posts"]

    def set_post_metrics(self, post_id: str, **groups: dict[str, int]) -> dict[str, Any]:
        """Groups: public_metrics, non_public_metrics, organic_metrics."""
        return self._call("PUT", f"/_fake/posts/{post_id}/metrics", groups)

    def media(self, *, user_id: str | None = None) -> list[dict]:
        """Every upload, with its category, whether it was finalized, and its alt text."""
        return self._call("GET", "/_fake/media", params=_without_none(user_id=user_id))["media"]

    def posts_created(self, user_id: str, text: str) -> int:
        """How many posts with exactly this submitted text this user created."""
        return _count_for(self.stats()["posts_created"], user_id, text)

    def duplicate_refusals(self, user_id: str, text: str) -> int:
        return _count_for(self.stats()["duplicate_refusals"], user_id, text)

    def _settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        return self._call("PATCH", "/_fake/settings", changes)

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> Any:
        response = self.session.request(
            method, self.url + path, json=body, params=params, timeout=10
        )
        if response.status_code >= 400:
            raise FakeXControlError(response.status_code, response.text)
        return response.json()


@dataclass
class RunningFakeX:
    url: str
    control: FakeXControl


@contextmanager
def fake_x_server(
    *, host: str = "127.0.0.1", profile: str = "pro", problem_host: str | None = None
) -> Iterator[RunningFakeX]:
    """The fake on a free port in a background thread of this process."""
    options = {"problem_host": problem_host} if problem_host else {}
    with served(make_server(host, 0, profile=profile, **options)) as url:
        yield RunningFakeX(url=url, control=FakeXControl(url))


@contextmanager
def served(server: FakeXServer) -> Iterator[str]:
    """Any fake's server answering in a background thread of this process; yields its URL."""
    # A short poll interval makes shutdown() quick, which adds up over a test session.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake", daemon=True
    )
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class FakeXProcess:
    """The fake as `python -m fakex` in a subprocess on a free port."""

    # What a subclass (fakebluesky, fakemastodon) changes to run another fake the same way.
    name = "fake X"
    listening_prefix = LISTENING_PREFIX
    control_class: type[FakeXControl] = FakeXControl

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        profile: str = "pro",
        problem_host: str | None = None,
        python: str = sys.executable,
        startup_timeout: float = 15.0,
    ) -> None:
        self.command = [python, "-m", "fakex", "--host", host, "--port", "0", "--profile", profile]
        if problem_host:
            self.command += ["--problem-host", problem_host]
        self.startup_timeout = startup_timeout
        self.url = ""
        self._control: FakeXControl | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def control(self) -> FakeXControl:
        if self._control is None:
            raise RuntimeError(f"the {self.name} process is not running; call start() first")
        return self._control

    def start(self) -> FakeXProcess:
        pythonpath = os.pathsep.join(
            filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        )
        self._process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": pythonpath},
        )
        line = self._first_line(self._process)
        if not line.startswith(self.listening_prefix):
            self.stop()
            raise RuntimeError(f"{self.name} did not start; it said {line!r}")
        self.url = line.removeprefix(self.listening_prefix).strip()
        self._control = self.control_class(self.url)
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._process = None
        self._control = None

    def __enter__(self) -> FakeXProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _first_line(self, process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=self.startup_timeout):
                return ""
        return process.stdout.readline()


def _without_none(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _count_for(entries: list[dict[str, Any]], user_id: str, text: str) -> int:
    return sum(
        entry["count"] for entry in entries if entry["user_id"] == user_id and entry["text"] == text
    )
