"""The chaos itself: killed workers, a flushed broker, a crashed database, on a timetable.

Times count from the moment Kairos's processes were started. Every act is
logged with its time, so a finding can be laid against what happened when.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chaos.cluster import Cluster
from chaos.report import ChaosEvent

KILL_EVERY_SECONDS = 10.0
REDIS_FLUSH_AT = 30.0
POSTGRES_CRASH_AT = 60.0


class Timeline:
    """The run's clock and its log of chaos events, printed as they happen."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.events: list[ChaosEvent] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def event(self, what: str) -> None:
        event = ChaosEvent(at=round(self.elapsed(), 2), what=what)
        self.events.append(event)
        print(f"[{event.at:7.1f}s] {what}", flush=True)

    def note(self, what: str) -> None:
        """Progress, printed like an event but not one."""
        print(f"[{self.elapsed():7.1f}s]   {what}", flush=True)


@dataclass(order=True)
class _Act:
    at: float
    perform: Callable[[], str] = field(compare=False)


class Monkey:
    """Performs the acts whose time has come, and restarts processes that die by themselves."""

    def __init__(self, cluster: Cluster, timeline: Timeline, *, seed: int, until: float) -> None:
        self.cluster = cluster
        self.timeline = timeline
        self.workers_killed = 0
        self.unplanned_exits = 0
        self._random = random.Random(seed)
        kills = [_Act(at, self._worker_kill) for at in _every(KILL_EVERY_SECONDS, until=until)]
        self._plan = sorted(
            [
                *kills,
                _Act(REDIS_FLUSH_AT, self._redis_flush_restart),
                _Act(POSTGRES_CRASH_AT, self._postgres_crash_restart),
            ]
        )

    def act(self) -> None:
        while self._plan and self._plan[0].at <= self.timeline.elapsed():
            act = self._plan.pop(0)
            started = time.monotonic()
            outcome = act.perform()
            self.timeline.event(f"{outcome} ({time.monotonic() - started:.1f} s)")

    def supervise(self) -> None:
        """Restart a Kairos process that exited without being killed, as a supervisor would."""
        for name, process in self.cluster.kairos.items():
            if not process.alive:
                self.unplanned_exits += 1
                status = process.returncode
                process.restart()
                self.timeline.event(f"{name} exited by itself (status {status}); restarted it")

    def _worker_kill(self) -> str:
        name = self._random.choice(sorted(self.cluster.workers))
        worker = self.cluster.workers[name]
        pid = worker.pid
        worker.kill()
        worker.restart()
        self.workers_killed += 1
        return f"SIGKILLed {name} (pid {pid}) with its pool; restarted it as pid {worker.pid}"

    def _redis_flush_restart(self) -> str:
        self.cluster.redis.flush()
        self.cluster.redis.restart()
        return "flushed Redis (every queued message lost) and restarted it"

    def _postgres_crash_restart(self) -> str:
        self.cluster.postgres.kill()
        self.cluster.postgres.restart()
        return "crashed PostgreSQL (SIGKILL, all backends) and restarted it (WAL recovery)"


def _every(period: float, *, until: float) -> list[float]:
    count = int(until // period)
    return [period * number for number in range(1, count + 1)]
