"""Integration tests run against real PostgreSQL and Redis, with real Celery processes.

`make test` runs them with DATABASE_URL and CELERY_BROKER_URL pointing at the
servers. Without them they are skipped with the reason shown; with
KAIROS_REQUIRE_SERVICES=1 (as in CI) a missing server is a failure instead.
"""

import os
import sys
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from harness.processes import ManagedProcess

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("KAIROS_REQUIRE_SERVICES") == "1"


def _missing_services() -> list[str]:
    missing = []
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        missing.append("DATABASE_URL does not point at PostgreSQL")
    else:
        try:
            psycopg.connect(
                host=database["HOST"],
                port=database["PORT"] or 5432,
                user=database["USER"],
                password=database["PASSWORD"],
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.OperationalError as exc:
            missing.append(f"PostgreSQL is not reachable ({exc})")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        missing.append("CELERY_BROKER_URL does not point at Redis")
    else:
        try:
            redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=3).ping()
        except redis.RedisError as exc:
            missing.append(f"Redis is not reachable ({exc})")
    return missing


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    return django_db_setup


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # trylast: after `-m` has deselected, so a unit-only run asks for no servers.
    integration = [item for item in items if item.get_closest_marker("integration")]
    if not integration:
        return
    missing = _missing_services()
    if not missing:
        return
    reason = "integration tests need PostgreSQL and Redis: " + "; ".join(missing)
    if REQUIRED:
        raise pytest.UsageError(f"KAIROS_REQUIRE_SERVICES=1 but {reason}")
    for item in integration:
        item.add_marker(pytest.mark.skip(reason=reason))


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
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def celery_processes(transactional_db, tmp_path):
    """A real Celery worker and a real beat (database scheduler), stopped after the test."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    env = _process_env(tmp_path)
    celery = [sys.executable, "-m", "celery", "--app=config"]
    worker = ManagedProcess(
        [*celery, "worker", "--queues=dispatch,publish,celery", "--concurrency=2", "-l", "INFO"],
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
