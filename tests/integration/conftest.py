"""Fixtures for the integration tests: real Celery processes on this test's database.

Which tests need servers, and what happens without them, is decided in
tests/conftest.py for every test marked `integration`, wherever it lives.
"""

import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from harness.processes import ManagedProcess

ROOT = Path(__file__).resolve().parents[2]


def _process_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a worker or beat that shares this test's database and broker."""
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    return {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "KAIROS_DATA_DIR": str(tmp_path),
        "KAIROS_PUBLIC_URL": "http://testserver",
        # Webhook receivers in these tests listen on 127.0.0.1.
        "KAIROS_WEBHOOKS_ALLOW_PRIVATE": "true",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def celery_env() -> dict[str, str]:
    """More environment for the worker and beat; a test module overrides it to add some."""
    return {}


@pytest.fixture
def celery_processes(transactional_db, tmp_path, celery_env):
    """A real Celery worker and a real beat (database scheduler), stopped after the test."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    env = _process_env(tmp_path) | celery_env
    celery = [sys.executable, "-m", "celery", "--app=config"]
    worker = ManagedProcess(
        [
            *celery,
            "worker",
            "--queues=dispatch,publish,celery,events,webhooks",
            "--concurrency=2",
            "-l",
            "INFO",
        ],
        log_path=tmp_path / "worker.log",
        env=env,
        cwd=ROOT,
    )
    beat = ManagedProcess(
        [*celery, "beat", "-l", "INFO", "--schedule", str(tmp_path / "beat.db")],
        log_path=tmp_path / "beat.log",
        env=env,
        cwd=ROOT,
    )
    with worker, beat:
        worker.wait_for_log(r"celery@\S+ ready", timeout=60)
        beat.wait_for_log(r"celery beat v\S+ .*is starting", timeout=60)
        yield {"worker": worker, "beat": beat}
