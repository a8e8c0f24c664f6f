"""Every process of a chaos run: private servers, the fake networks, Kairos's workers and
beats, and Kairos's web when a network downloads media from it (Instagram).

All of them live in the run's folder and on free ports, so the run may kill,
flush and restart them without touching anything else on the machine. Closing
the cluster stops Kairos's processes first (they would only log errors about
the servers going away), then the servers.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

import redis
from kombu.transport.redis import PRIORITY_STEPS, Channel

from chaos.networks import NETWORKS, ChaosNetwork, RunningNetwork
from fakex.control import FakeXProcess
from harness import HarnessError, ManagedProcess, PostgresServer, RedisServer, free_port
from harness.ports import HOST

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "--app=config"]
MIGRATE_TIMEOUT = 300.0
READY_TIMEOUT = 90.0
WEB_POLL_SECONDS = 0.2
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
        _shared_fakes_check(self.network_choice)
        self.worker_count = workers
        self.concurrency = concurrency
        self.beat_count = beats
        self.workers: dict[str, ManagedProcess] = {}
        self.beats: dict[str, ManagedProcess] = {}
        # Serves the signed media addresses; only when a network downloads media.
        self.web: ManagedProcess | None = None
        self._web_port: int | None = None
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
            for fake in [self._fakes[network.fake_name]]
        ]

    @property
    def fakes(self) -> list[FakeXProcess]:
        """Each fake once, also one that serves several networks."""
        return list(self._fakes.values())

    @property
    def kairos(self) -> dict[str, ManagedProcess]:
        """Kairos's processes by name (worker1, beat1, ..., web)."""
        return {**self.workers, **self.beats, **({"web": self.web} if self.web else {})}

    def servers_start(self) -> None:
        self._postgres = self._stack.enter_context(PostgresServer(self.folder / "postgres"))
        self._redis = self._stack.enter_context(RedisServer(self.folder / "redis"))
        for network in self.network_choice:
            if network.fake_name in self._fakes:
                continue
            with _stderr_to(self.folder / f"fake-{network.fake_name}.log"):
                self._fakes[network.fake_name] = self._stack.enter_context(network.process())
        if any(network.downloads_media for network in self.network_choice):
            # Chosen now, so that every Kairos process is told its address from the start.
            self._web_port = free_port()

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
            **({"KAIROS_PUBLIC_URL": self.web_url} if self.web_url else {}),
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

    @property
    def web_url(self) -> str | None:
        """Where the run's Kairos web process serves, if the run has one."""
        return f"http://{HOST}:{self._web_port}" if self._web_port else None

    def kairos_start(self) -> None:
        """Start the web (if any), workers and beats, and wait until each says it is up."""
        env = self.kairos_env()
        if self._web_port is not None:
            self.web = self._web_process(self._web_port, env=env)
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
        if self.web is not None:
            self._web_wait_ready(self.web)

    def publish_backlog(self) -> int | None:
        """Messages waiting in the broker's publish queue, or None while Redis is away."""
        try:
            with redis.Redis.from_url(self.redis.url, socket_timeout=2) as client:
                return sum(client.llen(key) for key in PUBLISH_QUEUE_KEYS)
        except redis.RedisError:
            return None

    def kairos_stop(self) -> None:
        """Stop Kairos's processes all at once: one slow to stop (beats have been seen to
        wait out their whole timeout) does not hold up the others."""
        processes = list(self.kairos.values())
        if not processes:
            return
        with ThreadPoolExecutor(max_workers=len(processes)) as pool:
            # list() so that an error in any of them is raised here.
            list(pool.map(lambda process: process.terminate(), processes))

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
                "--queues=dispatch,publish,celery,events,webhooks",
                f"--concurrency={self.concurrency}",
                f"--hostname={name}@%h",
                "--loglevel=INFO",
            ],
            log_path=self.folder / f"{name}.log",
            env=env,
            cwd=ROOT,
        )

    def _web_process(self, port: int, *, env: dict[str, str]) -> ManagedProcess:
        """gunicorn as production runs it (manage.py runkairos)."""
        # Loads Kairos's apps, hence after django.setup().
        from publishing.management.commands.runkairos import web_command

        return ManagedProcess(
            web_command(host=HOST, port=port),
            log_path=self.folder / "web.log",
            env=env,
            cwd=ROOT,
        )

    def _web_wait_ready(self, web: ManagedProcess) -> None:
        """Wait until the web answers: gunicorn listens at once, but its workers load Kairos
        before they take a request, and Meta gives up on a download after a few seconds."""
        url = f"{self.web_url}/healthz"
        deadline = time.monotonic() + READY_TIMEOUT
        while not _answers(url):
            if not web.alive or time.monotonic() > deadline:
                raise HarnessError(
                    f"Kairos's web process did not answer {url} within {READY_TIMEOUT:g} s; "
                    f"the end of {web.log_path}:\n{web.log_tail()}"
                )
            time.sleep(WEB_POLL_SECONDS)

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


def _shared_fakes_check(networks: list[ChaosNetwork]) -> None:
    """A fake has one set of fault rates: the networks it serves must ask for the same."""
    paths: dict[str, str | None] = {}
    for network in networks:
        path = paths.setdefault(network.fake_name, network.create_path)
        if path != network.create_path:
            raise ValueError(
                f"{network.name} shares the fake {network.fake_name!r} but faults another path"
            )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=WEB_POLL_SECONDS * 10) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


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
