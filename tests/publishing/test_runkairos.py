import os
import subprocess
import time

from publishing.management.commands.runkairos import Command, _exited, _status


def test_links_follow_the_port_and_host_served_on(monkeypatch):
    monkeypatch.delenv("KAIROS_PUBLIC_URL", raising=False)

    assert Command._env(host="127.0.0.1", port=8123)["KAIROS_PUBLIC_URL"] == (
        "http://127.0.0.1:8123"
    )
    assert Command._env(host="kairos.lan", port=80)["KAIROS_PUBLIC_URL"] == "http://kairos.lan:80"


def test_links_name_this_machine_when_serving_on_every_interface(monkeypatch):
    monkeypatch.delenv("KAIROS_PUBLIC_URL", raising=False)

    assert Command._env(host="0.0.0.0", port=8123)["KAIROS_PUBLIC_URL"] == ("http://127.0.0.1:8123")
    assert Command._env(host="::1", port=8123)["KAIROS_PUBLIC_URL"] == "http://[::1]:8123"


def test_an_operators_public_url_wins(monkeypatch):
    monkeypatch.setenv("KAIROS_PUBLIC_URL", "https://kairos.example.com")

    assert Command._env(host="127.0.0.1", port=8123)["KAIROS_PUBLIC_URL"] == (
        "https://kairos.example.com"
    )


def test_web_stops_gracefully_within_bounds_and_shares_no_control_socket():
    web = Command._commands(host="127.0.0.1", port=8123, concurrency=2)["web"]

    assert "--bind=127.0.0.1:8123" in web
    assert "--graceful-timeout=3" in web
    assert "--no-control-socket" in web
    assert "--config=python:config.gunicorn" in web


def test_json_logs_leave_out_the_workers_banner(settings):
    settings.LOG_FORMAT = "json"

    worker = Command._commands(host="127.0.0.1", port=8123, concurrency=2)["worker"]

    assert worker[worker.index("--quiet") + 1] == "worker"


def _exited_child(script: str) -> subprocess.Popen:
    child = subprocess.Popen(["sh", "-c", script])
    deadline = time.monotonic() + 10
    while not _exited(child) and time.monotonic() < deadline:
        time.sleep(0.01)
    return child


def test_a_childs_exit_is_seen_and_its_status_read_without_reaping_it():
    child = _exited_child("exit 3")

    assert _status(child) == 3
    assert child.returncode is None  # Unreaped: its pid, the group's id, stays reserved.
    assert child.wait() == 3


def test_a_child_killed_by_a_signal_has_the_signal_as_negative_status():
    child = _exited_child("kill -9 $$")

    assert _status(child) == -9
    child.wait()


def test_without_waitid_a_childs_exit_is_seen_by_reaping_it(monkeypatch):
    monkeypatch.delattr(os, "waitid")

    child = _exited_child("exit 4")

    assert _status(child) == 4
