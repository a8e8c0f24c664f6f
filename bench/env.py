"""The servers and processes of a benchmark run, all in one temporary folder.

A run starts its own PostgreSQL, Redis and fake X on free ports (through
`harness`), points this process's Django at them, and starts Celery workers and
beats as figures need them. Everything is stopped on every way out (an
exception, Ctrl-C, SIGTERM) and the folder removed, unless `keep` asks to look
at the logs afterwards.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from harness import ManagedProcess, PostgresServer, RedisServer
from harness.ports import HOST

ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "--app=config"]
READY_TIMEOUT = 90.0
FAKE_X_TIMEOUT = 30.0
WORKER_READY = r"\S+@\S+ ready"
BEAT_READY = r"celery beat v\S+ .*is starting"


class BenchEnv:
    """Private servers plus this process's Django set up against them; a context manager."""

    def __init__(self, *, keep: bool = False, data: Path | None = None) -> None:
        # Short and under /tmp: PostgreSQL's socket path may not exceed 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="kairos-bench-"))
        self.keep = keep
        # A folder kept between runs for PostgreSQL's cluster, so that a figure may
        # reuse data it loaded before (P6's million posts); None: in the run's folder.
        self.data = data
        self._stack = ExitStack()
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.fake_x: ManagedProcess | None = None
        self.fake_x_url = ""

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        cluster = self.data / "pg" if self.data else self.folder / "pg"
        self.postgres = self._stack.enter_context(PostgresServer(cluster))
        self.redis = self._stack.enter_context(RedisServer(self.folder / "redis"))
        self.fake_x = self._stack.enter_context(
            ManagedProcess(
                [sys.executable, "-m", "fakex", "--host", HOST, "--port", "0"],
                log_path=self.folder / "fakex.log",
                cwd=ROOT,
                env={"PYTHONUNBUFFERED": "1"},
            )
        )
        match = self.fake_x.wait_for_log(r"fakex listening on (\S+)", FAKE_X_TIMEOUT)
        self.fake_x_url = match.group(1)
        os.environ.update(self.kairos_env())
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            if self.keep:
                print(f"kept the run's folder (logs, data): {self.folder}", file=sys.stderr)
            else:
                shutil.rmtree(self.folder, ignore_errors=True)

    def kairos_env(self, **overrides: str) -> dict[str, str]:
        """What every Kairos process of the run sees, this one included."""
        assert self.postgres and self.redis
        return {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.postgres.url,
            "CELERY_BROKER_URL": self.redis.url,
            # The cache (the API's throttle counters) in the broker's Redis, another
            # database, as README's Scaling out and docker-compose.yml deploy it.
            "KAIROS_CACHE_URL": self.redis.url.removesuffix("/0") + "/1",
            "X_API_BASE_URL": self.fake_x_url,
            "KAIROS_DATA_DIR": str(self.folder / "kairos"),
            "PYTHONUNBUFFERED": "1",
            # P5 calls the API hundreds of times a minute with one key: the throttle still
            # counts every request (its cost is measured), it just never refuses one.
            "KAIROS_API_THROTTLE_RATE": "100000/min",
            **overrides,
        }

    def worker(
        self,
        name: str,
        *,
        queues: Sequence[str],
        pool: str = "prefork",
        concurrency: int = 2,
        **env: str,
    ) -> ManagedProcess:
        """A Celery worker (not started): see `running`."""
        return ManagedProcess(
            [
                *CELERY,
                "worker",
                f"--queues={','.join(queues)}",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                f"--hostname={name}@%h",
                # Neither is needed with one worker per queue, and both cost start-up time.
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            log_path=self.folder / f"{name}.log",
            env=self.kairos_env(**env),
            cwd=ROOT,
        )

    def beat(self, name: str = "beat", **env: str) -> ManagedProcess:
        """A Celery beat with django-celery-beat's DatabaseScheduler (not started)."""
        return ManagedProcess(
            [
                *CELERY,
                "beat",
                "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
                f"--schedule={self.folder / f'{name}.db'}",
                "--loglevel=INFO",
            ],
            log_path=self.folder / f"{name}.log",
            env=self.kairos_env(**env),
            cwd=ROOT,
        )

    def python(self, name: str, module: str, *args: str, **env: str) -> ManagedProcess:
        """`python -m module args…` as a Kairos process (not started)."""
        return ManagedProcess(
            [sys.executable, "-m", module, *args],
            log_path=self.folder / f"{name}.log",
            env=self.kairos_env(**env),
            cwd=ROOT,
        )


@contextmanager
def running(*processes: ManagedProcess) -> Iterator[None]:
    """Start the processes, wait until each says it is up, and stop them all on the way out."""
    with ExitStack() as stack:
        for process in processes:
            stack.enter_context(process)
        for process in processes:
            if "worker" in process.argv:
                process.wait_for_log(WORKER_READY, READY_TIMEOUT)
            elif "beat" in process.argv:
                process.wait_for_log(BEAT_READY, READY_TIMEOUT)
        yield
