"""`manage.py runkairos` as `make run` starts it: the embedded default (SQLite and a
broker folder in a temporary KAIROS_DATA_DIR), on a free port, stopped like an
operator stops it. These tests start real processes but need no server."""

import os
import signal
import socket
import sqlite3
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from harness.ports import HOST, free_port
from harness.processes import ManagedProcess, process_family, processes_alive

ROOT = Path(__file__).resolve().parents[2]
# What the issue promises an operator: everything gone, the port free, within this.
STOP_LIMIT_SECONDS = 10.0
STOP_RUNS = 3

pytestmark = pytest.mark.integration

SCHEDULE_A_SANDBOX_POST = textwrap.dedent(
    """
    from datetime import timedelta
    from django.utils import timezone
    from accounts.models import SocialAccount
    from posts.services import post_create
    from publishing.plans import schedule_once

    account = SocialAccount.objects.get(handle="demo")
    post = post_create(
        workspace=account.workspace, author=None, texts=["Hello from runkairos"],
        accounts=[account],
    )
    at = (timezone.now() + timedelta(seconds=2)).replace(microsecond=0)
    schedule_once(
        post=post, local_date=at.date(), local_time=at.time(), timezone_name="UTC", actor=None
    )
    """
)


def _runkairos(tmp_path: Path, port: int) -> ManagedProcess:
    env = {
        "KAIROS_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kairos.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://localhost//",
        # Empty is unset: links must follow the port served on.
        "KAIROS_PUBLIC_URL": "",
        "KAIROS_ADMIN_PASSWORD": "a-test-password",
        "PYTHONUNBUFFERED": "1",
    }
    return ManagedProcess(
        [sys.executable, "manage.py", "runkairos", f"--host={HOST}", f"--port={port}"],
        log_path=tmp_path / "runkairos.log",
        env=env,
        cwd=ROOT,
        stop_signal=signal.SIGINT,
    )


def _started(tmp_path: Path) -> tuple[ManagedProcess, int]:
    port = free_port()
    kairos = _runkairos(tmp_path, port).start()
    kairos.wait_for_log(r"celery@\S+ ready", timeout=90)
    kairos.wait_for_port(port, timeout=30)
    return kairos, port


def _port_free(port: int) -> bool:
    """Whether a server could bind the port now (as gunicorn does, past TIME_WAIT)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def _wait_all_gone(kairos: ManagedProcess, family: set[int], port: int) -> float:
    """Seconds until runkairos exited, its whole family died and the port is free."""
    started = time.monotonic()
    while time.monotonic() - started < STOP_LIMIT_SECONDS:
        if not kairos.alive and not processes_alive(family) and _port_free(port):
            return time.monotonic() - started
        time.sleep(0.05)
    left = sorted(processes_alive(family))
    survivors = {pid: _cmdline(pid) for pid in left}
    pytest.fail(
        f"{STOP_LIMIT_SECONDS}s after the stop: runkairos alive={kairos.alive}, "
        f"survivors {survivors}, port {port} free={_port_free(port)}\n{kairos.log_tail()}"
    )


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def _published_url(database: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(database, timeout=20) as connection:
            # This post's job: the demo's history holds published jobs of its own.
            row = connection.execute(
                "SELECT job.external_url FROM publishing_publishjob AS job"
                " JOIN posts_postpart AS part ON part.post_id = job.post_id"
                " WHERE job.status = 'published' AND part.text = 'Hello from runkairos'"
            ).fetchone()
        if row:
            return row[0]
        time.sleep(0.2)
    raise AssertionError(f"no job published within {timeout}s")


def test_ctrl_c_stops_web_worker_and_beat_and_frees_the_port(tmp_path):
    for run in range(STOP_RUNS):
        data_dir = tmp_path / f"run{run}"
        kairos, port = _started(data_dir)
        try:
            if run == 0:
                ManagedProcess(
                    [sys.executable, "manage.py", "shell", "-c", SCHEDULE_A_SANDBOX_POST],
                    log_path=data_dir / "schedule.log",
                    env=kairos.env,
                    cwd=ROOT,
                ).run(timeout=60)
                url = _published_url(data_dir / "kairos.sqlite3", timeout=30)
                assert url.startswith(f"http://{HOST}:{port}/sandbox/demo/")
                with urllib.request.urlopen(url, timeout=10) as page:
                    assert "Hello from runkairos" in page.read().decode()
            family = process_family(kairos.pid)
            assert len(family) >= 5, "runkairos, gunicorn and its workers, celery and beat"

            # A terminal's Ctrl-C: SIGINT to the whole foreground process group.
            os.killpg(kairos.pid, signal.SIGINT)

            took = _wait_all_gone(kairos, family, port)
            assert kairos.returncode == 0
            print(f"run {run}: stopped, port {port} free, in {took:.1f}s")
        finally:
            kairos.kill()


def test_a_dead_worker_stops_the_whole_group(tmp_path):
    kairos, port = _started(tmp_path)
    try:
        family = process_family(kairos.pid)
        worker = next(
            pid
            for pid in family
            if "celery" in _cmdline(pid)
            and Path(f"/proc/{pid}/stat").read_text().split()[3] == str(kairos.pid)
        )

        os.kill(worker, signal.SIGKILL)

        took = _wait_all_gone(kairos, family, port)
        assert kairos.returncode == 1
        assert "worker stopped (exit -9); stopping all." in kairos.log_tail(lines=200)
        print(f"worker killed: everything stopped, port {port} free, in {took:.1f}s")
    finally:
        kairos.kill()
