"""`python -m fakex` as a subprocess, the way the chaos run and benchmarks use it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

from fakex.control import FakeXProcess

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_the_process_announces_its_url_and_serves():
    with FakeXProcess() as fake_x:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake_x.url)
        user = fake_x.control.create_connected_user(username="alice")

        response = requests.post(
            f"{fake_x.url}/2/tweets", json={"text": "hi"}, headers=user.headers, timeout=5
        )

        assert response.status_code == 201
        assert fake_x.control.posts_created(user.id, "hi") == 1


def test_profile_and_problem_host_options():
    with FakeXProcess(profile="basic", problem_host="api.x.com") as fake_x:
        user = fake_x.control.create_connected_user(username="alice")

        response = requests.post(
            f"{fake_x.url}/2/tweets", json={"text": "a" * 281}, headers=user.headers, timeout=5
        )

        assert response.headers["x-user-limit-24hour-limit"] == "100"
        assert response.json()["type"] == "https://api.x.com/2/problems/invalid-request"


def test_sigterm_stops_the_server_cleanly():
    process = subprocess.Popen(
        [sys.executable, "-m", "fakex", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("fakex listening on http://127.0.0.1:")

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=5) == 0
    finally:
        process.kill()
        process.stdout.close()
