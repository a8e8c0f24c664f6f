"""Kairos as deployed for P2 and P3: beat, a dispatch worker and publish workers.

Beat (django-celery-beat's DatabaseScheduler) sends the dispatch tick every
`tick_seconds` to the `dispatch` queue; one worker with the solo pool runs
ticks, so a tick never waits behind publishing; publish workers run
`publish_jobs` batches against the fake X. Import after `django.setup()`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.test import override_settings
from django.utils import timezone

from bench.env import BenchEnv, running
from bench.measure import Tracked, log_problems
from bench.scene import BenchPost, jobs_by_status
from fakex.control import FakeXControl
from harness import ManagedProcess
from publishing.beat import beat_entries_ensure
from publishing.states import ACTIVE

# How long after the UPDATE that makes posts due they fall due: the tick must not
# see them half-written, and the processes are warm by then.
LEAD_SECONDS = 2.0
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class WorkerShape:
    """The publish workers: how many, with which pool and concurrency each."""

    pool: str
    concurrency: int
    workers: int = 1

    def __str__(self) -> str:
        return f"{self.workers} x --pool={self.pool} --concurrency={self.concurrency}"


def dispatch_tick_every(seconds: float) -> None:
    """Set beat's dispatch-tick entry to `seconds`, as a deploy with KAIROS_TICK_SECONDS would."""
    with override_settings(KAIROS_TICK_SECONDS=seconds):
        beat_entries_ensure()


@dataclass
class Cluster:
    """The running processes, and what to track of them and of the servers for CPU."""

    processes: dict[str, ManagedProcess]
    tracked: list[Tracked]

    def log_marks(self) -> dict[str, int]:
        """Where each process's log ends now, to look only at what a figure made it say."""
        return {name: process.log_path.stat().st_size for name, process in self.processes.items()}

    def problems_since(self, marks: dict[str, int]) -> list[str]:
        """A note per process that logged errors since `marks`, quoting the first ones."""
        notes = []
        for name, process in self.processes.items():
            count, examples = log_problems(process.log_path, since=marks.get(name, 0))
            if count:
                quoted = "; ".join(f"`{line.strip()[:200]}`" for line in examples)
                notes.append(f"**{name} logged {count} error line(s)**: {quoted}")
        return notes


@contextmanager
def publishing_cluster(
    env: BenchEnv, *, shape: WorkerShape, tick_seconds: float
) -> Iterator[Cluster]:
    """Start beat and the workers, yield them, and stop them all afterwards."""
    dispatch_tick_every(tick_seconds)
    tick = {"KAIROS_TICK_SECONDS": str(tick_seconds)}
    dispatcher = env.worker("dispatch", queues=["dispatch"], pool="solo", concurrency=1, **tick)
    publishers = [
        env.worker(
            f"publish{number}",
            queues=["publish", "celery"],
            pool=shape.pool,
            concurrency=shape.concurrency,
            **tick,
        )
        for number in range(1, shape.workers + 1)
    ]
    beat = env.beat(**tick)
    assert env.postgres and env.redis and env.fake_x
    processes = {
        "beat": beat,
        "dispatch worker": dispatcher,
        **{f"publish worker {n}": worker for n, worker in enumerate(publishers, start=1)},
    }
    with running(dispatcher, *publishers, beat):
        yield Cluster(
            processes=processes,
            tracked=[
                *(Tracked(name, process.pid) for name, process in processes.items()),
                Tracked("postgres", env.postgres.pid),
                Tracked("redis", env.redis.pid),
                Tracked("fake X", env.fake_x.pid),
                Tracked("bench driver", os.getpid(), family=False),
            ],
        )


def sleep_until(instant: datetime) -> None:
    time.sleep(max((instant - timezone.now()).total_seconds(), 0.0))


def jobs_wait_settled(*, count: int, timeout: float) -> tuple[dict[str, int], bool]:
    """Wait until `count` jobs exist and none is pending, queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        statuses = jobs_by_status()
        settled = sum(n for status, n in statuses.items() if status not in ACTIVE)
        if settled >= count:
            return statuses, True
        if time.monotonic() >= deadline:
            return statuses, False
        time.sleep(POLL_SECONDS)


def creations_on_x(control: FakeXControl, posts: list[BenchPost]) -> dict[int, float]:
    """When each post was first created on the fake X (epoch seconds), by post id."""
    wanted = {(post.user_id, post.text): post.post_id for post in posts}
    created: dict[int, float] = {}
    for entry in control.posts():
        post_id = wanted.get((entry["author_id"], entry["submitted_text"]))
        if post_id is not None:
            created[post_id] = min(created.get(post_id, entry["created_at"]), entry["created_at"])
    return created
