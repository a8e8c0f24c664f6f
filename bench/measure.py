"""What the processes of a run cost: CPU time and memory, read from /proc.

Every figure says which of its processes used the two cores, so that a figure
limited by the machine (PostgreSQL, Redis, the fake X, workers and the driver all
share it) shows as such. CPU is counted per process family: a process and all its
descendants (Celery's prefork children, PostgreSQL's backends), including the
children it has reaped, so a backend that came and went still counts.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import redis

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
PROC = Path("/proc")
# kombu's Redis transport keeps each priority level of a queue in a list of its own.
PRIORITY_SEPARATOR = "\x06\x16"


@dataclass(frozen=True)
class Tracked:
    """A process to account for: with its descendants (`family`), or alone (the driver)."""

    name: str
    pid: int
    family: bool = True


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    seconds: Mapping[str, float]
    machine_busy: float
    machine_stolen: float
    machine_total: float


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The fields after the command name, which is in parentheses and may contain anything.
    return text.rsplit(")", 1)[1].split()


def _parents() -> dict[int, int]:
    parents = {}
    for stat in PROC.glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields is not None:
            parents[int(stat.parent.name)] = int(fields[1])
    return parents


def family_of(pid: int, parents: Mapping[int, int] | None = None) -> set[int]:
    """`pid` and every living descendant of it."""
    parents = _parents() if parents is None else parents
    family = {pid} if pid in parents else set()
    while True:
        children = {child for child, parent in parents.items() if parent in family}
        if children <= family:
            return family
        family |= children


def _cpu_seconds(pid: int) -> float:
    """CPU time of the process and of the children it has reaped (utime, stime, cutime, cstime)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def _machine_jiffies() -> tuple[float, float, float]:
    """(busy, stolen, total) CPU seconds of the whole machine since boot, all cores added.

    Stolen time is what the hypervisor gave to other guests while this one wanted to
    run: on a shared host it limits a figure as surely as our own processes do.
    """
    fields = (PROC / "stat").read_text().splitlines()[0].split()[1:9]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields)
    busy = user + nice + system + irq + softirq
    return busy / CLOCK_TICKS, steal / CLOCK_TICKS, (busy + idle + iowait + steal) / CLOCK_TICKS


class CpuMeter:
    """Snapshots of the CPU time used so far by each tracked process family."""

    def __init__(self, tracked: list[Tracked]) -> None:
        self.tracked = tracked

    def snapshot(self) -> CpuSnapshot:
        parents = _parents()
        seconds = {}
        for item in self.tracked:
            members = family_of(item.pid, parents) if item.family else {item.pid}
            seconds[item.name] = sum(_cpu_seconds(pid) for pid in members)
        busy, stolen, total = _machine_jiffies()
        return CpuSnapshot(
            at=time.monotonic(),
            seconds=seconds,
            machine_busy=busy,
            machine_stolen=stolen,
            machine_total=total,
        )


def cpu_seconds(start: CpuSnapshot, end: CpuSnapshot) -> dict[str, float]:
    """CPU seconds each family used between two snapshots, plus `other`, `machine` and
    `stolen`.

    `other` is what the machine spent outside the tracked processes: other work on
    the machine, and short-lived processes of ours that nobody reaped in time.
    `stolen` is what the hypervisor took for other guests (not part of `machine`).
    """
    used = {
        name: max(end.seconds[name] - start.seconds.get(name, 0.0), 0.0) for name in end.seconds
    }
    machine = end.machine_busy - start.machine_busy
    used["other"] = max(machine - sum(used.values()), 0.0)
    used["machine"] = machine
    used["stolen"] = max(end.machine_stolen - start.machine_stolen, 0.0)
    return used


def cpu_usage(start: CpuSnapshot, end: CpuSnapshot) -> dict[str, float]:
    """Percent of one core each family (and `other`, `machine`) used between two snapshots."""
    wall = max(end.at - start.at, 1e-9)
    return {name: 100 * seconds / wall for name, seconds in cpu_seconds(start, end).items()}


def rss_mb(pid: int, *, family: bool = True) -> float:
    """Resident memory of a process (and its descendants), in MiB."""
    members = family_of(pid) if family else {pid}
    total_kb = 0
    for member in members:
        try:
            fields = (PROC / str(member) / "statm").read_text().split()
        except OSError:
            continue
        total_kb += int(fields[1]) * PAGE_KB
    return total_kb / 1024


@dataclass(frozen=True)
class QueueFill:
    """How a broker queue filled while we watched (times from `time.time()`)."""

    count: int
    first_at: float | None
    last_at: float | None
    complete: bool


def _queue_lists(queue: str) -> list[str]:
    return [queue, *(f"{queue}{PRIORITY_SEPARATOR}{level}" for level in range(10))]


def queue_clear(client: redis.Redis, queue: str) -> None:
    """Drop every message waiting in a queue, on every priority level."""
    client.delete(*_queue_lists(queue))


def queue_fill(
    client: redis.Redis,
    queue: str,
    *,
    count: int,
    timeout: float,
    poll: float = 0.01,
    jobs_per_message: Callable[[bytes], int] | None = None,
) -> QueueFill:
    """Watch a queue until it holds `count` messages (or, with `jobs_per_message`, that
    many jobs carried by its messages) or `timeout` runs out.

    It only reads the queue, so it takes nothing from the broker and adds no work to
    the sender being measured. Kombu pushes each message at the head of its list
    (LPUSH), so a message keeps its place counted from the tail: the new ones are
    read by those places, which a message pushed meanwhile does not shift (counted
    from the head, it would, and be counted twice).
    """
    deadline = time.monotonic() + timeout
    lengths = dict.fromkeys(_queue_lists(queue), 0)
    seen, first_at, last_at = 0, None, None
    while True:
        with client.pipeline(transaction=False) as pipeline:
            for name in lengths:
                pipeline.llen(name)
            current = dict(zip(lengths, pipeline.execute(), strict=True))
        now = time.time()
        for name, length in current.items():
            new = length - lengths[name]
            if new <= 0:
                continue
            if jobs_per_message is None:
                seen += new
            else:
                arrived = client.lrange(name, -length, -lengths[name] - 1)
                seen += sum(jobs_per_message(raw) for raw in arrived)
            lengths[name] = length
            last_at = now
            first_at = first_at or now
        if seen >= count:
            return QueueFill(count=seen, first_at=first_at, last_at=last_at, complete=True)
        if time.monotonic() >= deadline:
            return QueueFill(count=seen, first_at=first_at, last_at=last_at, complete=False)
        time.sleep(poll)


def publish_jobs_in(raw: bytes) -> int:
    """How many jobs one publish_jobs message (as kombu's Redis transport keeps it) carries."""
    (job_ids,), _, _ = json.loads(base64.b64decode(json.loads(raw)["body"]))
    return len(job_ids)


def log_problems(path: Path, *, since: int = 0, examples: int = 3) -> tuple[int, list[str]]:
    """How many ERROR lines and tracebacks a process logged after byte `since`; the first few."""
    with path.open("rb") as log:
        log.seek(since)
        lines = log.read().decode(errors="replace").splitlines()
    found = [line for line in lines if " ERROR " in line or line.startswith("Traceback")]
    return len(found), found[:examples]
