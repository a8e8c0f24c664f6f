"""Every process of a chaos run: private servers, the fake networks, Kairos's workers and beats.

All of them live in the run's folder and on free ports, so the run may kill,
flush and restart them without touching anything else on the machine. Closing
the cluster stops Kairos's processes first (they would only log errors about
the servers going away), then the servers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import redis
from kombu.transport.redis import PRIORITY_STEPS, Channel

from chaos.networks import NETWORKS, ChaosNetwork, RunningNetwork
from fakex.control import FakeXProcess
from harness import ManagedProcess, PostgresServer, RedisServer

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "--app=config"]
MIGRATE_TIMEOUT = 300.0
READY_TIMEOUT = 90.0
PUBLISH_QUEUE = "publish"
# kombu keeps a Redis list per priority step: "publish", "publish\x06\x163", ...
PUBLISH_QUEUE_KEYS = [
    f"{PUBLISH_QUEUE}{Channel.sep}{step}" if step else PUBLISH_QUEUE for step in PRIORITY_STEPS
]
# Short leases, so that what the chaos interrupts is recovered within the run.
LEASES = {
    "KAIROS_TASK_TIME_LIMIT": "20",  # the running lease is this + 30 s
    "KAIROS_QUEUED_LEASE_SECONDS": "15",
    "KAIROS_RECONCILE_DELAY_SECONDS": "3",
}


class Cluster:
    """The run's processes; use as a context manager so that every exit path stops them."""

    def __init__(
        self,
        folder: Path,
        *,
        workers: int,
        concurrency: int,
        beats: int,
        networks: list[ChaosNetwork] | None = None,
    ) -> None:
        self.folder = folder
        self.network_choice = list(NETWORKS.values()) if networks is None else networks
        self.worker_count = workers
        self.concurrency = concurrency
        self.beat_count = beats
        self.workers: dict[str, ManagedProcess] = {}
        self.beats: dict[str, ManagedProcess] = {}
        self._stack = ExitStack()
        self._postgres: PostgresServer | None = None
        self._redis: RedisServer | None = None
        self._fakes: dict[str, FakeXProcess] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def postgres(self) -> PostgresServer:
        return _started(self._postgres, "PostgreSQL")

    @property
    def redis(self) -> RedisServer:
        return _started(self._redis, "Redis")

    @property
    def networks(self) -> list[RunningNetwork]:
        """The run's networks with their fakes, in the order accounts are dealt round."""
        if not self._fakes:
            raise RuntimeError("the fakes are not running; call servers_start() first")
        return [
            RunningNetwork(network=network, url=fake.url, control=fake.control)
            for network in self.network_choice
            for fake in [self._fakes[network.name]]
        ]

    @property
    def kairos(self) -> dict[str, ManagedProcess]:
        """Kairos's processes by name (worker1, beat1, ...)."""
        return {**self.workers, **self.beats}

    def servers_start(self) -> None:
        self._postgres = self._stack.enter_context(PostgresServer(self.folder / "postgres"))
        self._redis = self._stack.enter_context(RedisServer(self.folder / "redis"))
        for network in self.network_choice:
            with _stderr_to(self.folder / f"fake-{network.name}.log"):
                self._fakes[network.name] = self._stack.enter_context(network.process())

    def kairos_env(self) -> dict[str, str]:
        """What every Kairos process of the run sees, the driver included."""
        return {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.postgres.url,
            "CELERY_BROKER_URL": self.redis.url,
            **{
                name: value
                for running in self.networks
                for name, value in running.network.env(running.url).items()
            },
            "KAIROS_DATA_DIR": str(self.folder),
            "PYTHONUNBUFFERED": "1",
            **LEASES,
        }

    def migrate(self) -> None:
        ManagedProcess(
            [sys.executable, "manage.py", "migrate", "--no-input"],
            log_path=self.folder / "migrate.log",
            env=self.kairos_env(),
            cwd=ROOT,
        ).run(MIGRATE_TIMEOUT)

    def kairos_start(self) -> None:
        """Start the workers and beats, and wait until each says it is up."""
        env = self.kairos_env()
        self.workers = {
            name: self._worker(name, env=env) for name in _numbered("worker", self.worker_count)
        }
        self.beats = {
            name: self._beat(name, env=env) for name in _numbered("beat", self.beat_count)
        }
        for process in self.kairos.values():
            process.start()
        for worker in self.workers.values():
            worker.wait_for_log(r"\S+@\S+ ready", READY_TIMEOUT)
        for beat in self.beats.values():
            beat.wait_for_log(r"celery beat v\S+ .*is starting", READY_TIMEOUT)

    def publish_backlog(self) -> int | None:
        """Messages waiting in the broker's publish queue, or None while Redis is away."""
        try:
            with redis.Redis.from_url(self.redis.url, socket_timeout=2) as client:
                return sum(client.llen(key) for key in PUBLISH_QUEUE_KEYS)
        except redis.RedisError:
            return None

    def kairos_stop(self) -> None:
        for process in self.kairos.values():
            process.terminate()

    def close(self) -> None:
        try:
            self.kairos_stop()
        finally:
            self._stack.close()

    def _worker(self, name: str, *, env: dict[str, str]) -> ManagedProcess:
        return ManagedProcess(
            [
                *CELERY,
                "worker",
                "--queues=dispatch,publish,celery",
                f"--concurrency={self.concurrency}",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
            ],
            log_path=self.folder / f"{name}.log",
            env=env,
            cwd=ROOT,
        )

    def _beat(self, name: str, *, env: dict[str, str]) -> ManagedProcess:
        return ManagedProcess(
            [
                *CELERY,
                "beat",
                "--schedule",
                str(self.folder / f"{name}.db"),
                "--loglevel=INFO",
            ],
            log_path=self.folder / f"{name}.log",
            env=env,
            cwd=ROOT,
        )


def _numbered(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{number}" for number in range(1, count + 1)]


def _started(server: T | None, name: str) -> T:
    if server is None:
        raise RuntimeError(f"{name} is not running; call servers_start() first")
    return server


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point this process's stderr at `path` while children are started that inherit it.

    A fake's process leaves its server's stderr to ours, and the server prints a
    traceback whenever a client hangs up before its answer, which killing workers
    does all the time. Those belong in the run's folder, not amid the timeline.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with path.open("ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
