"""The baseline a Django developer writes first: one django-celery-beat task per post.

Each post becomes a `PeriodicTask` with a one-off `ClockedSchedule` at its time,
and a real `celery beat` with the DatabaseScheduler sends them. The scheduler
keeps every enabled task in memory, compares the whole schedule on each of its
ticks, sends one due entry per tick, and reloads everything from the database
whenever a task row changes (disabling a one-off that ran is such a change), so
its pace falls as the number of rows grows.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask, PeriodicTasks

from bench.env import BEAT_READY, READY_TIMEOUT, BenchEnv
from bench.measure import CpuMeter, Tracked, cpu_usage, queue_clear, queue_fill
from bench.scene import BATCH_SIZE, database_reset, tables_analyze
from publishing.beat import DISPATCH_TICK, beat_entries_ensure

QUEUE = "baseline"
TASK = "bench.baseline.publish_post"


@dataclass(frozen=True)
class BaselineResult:
    due: int
    sent: int
    seconds: float
    complete: bool
    first_message_s: float | None
    cpu: dict[str, float]

    @property
    def per_s(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def periodic_tasks_create(*, count: int) -> None:
    """`count` one-off tasks, all due a second ago, each publishing one post."""
    due = timezone.now() - timedelta(seconds=1)
    clocks = ClockedSchedule.objects.bulk_create(
        [ClockedSchedule(clocked_time=due) for _ in range(count)], batch_size=BATCH_SIZE
    )
    PeriodicTask.objects.bulk_create(
        [
            PeriodicTask(
                name=f"publish post {number}",
                task=TASK,
                args=json.dumps([number]),
                clocked=clock,
                one_off=True,
                queue=QUEUE,
            )
            for number, clock in enumerate(clocks, start=1)
        ],
        batch_size=BATCH_SIZE,
    )
    # Only the posts' tasks: Kairos's own tick entry has no part in the baseline.
    PeriodicTask.objects.filter(name=DISPATCH_TICK).update(enabled=False)
    PeriodicTasks.update_changed()


def periodic_tasks_delete() -> None:
    """Remove the posts' tasks and bring Kairos's own beat entries back.

    TRUNCATE, not a delete through the ORM: django-celery-beat's delete signal
    rewrites its change-tracking row once per task, minutes for 100,000 of them.
    """
    tables = [model._meta.db_table for model in (PeriodicTask, ClockedSchedule)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    beat_entries_ensure()
    PeriodicTasks.update_changed()


def baseline_run(env: BenchEnv, *, count: int, timebox: float) -> BaselineResult:
    """Send `count` due one-off tasks with a real beat; stop watching after `timebox` seconds.

    The clock starts when beat announces itself (Django loaded, before it reads
    its schedule), as Kairos's clock starts with a dispatch process that is up.
    """
    database_reset()
    client = redis.Redis.from_url(env.kairos_env()["CELERY_BROKER_URL"])
    queue_clear(client, QUEUE)
    periodic_tasks_create(count=count)
    tables_analyze()
    assert env.postgres and env.redis
    # This beat is the naive scheduler, not Kairos's: it must not put Kairos's entries back.
    with env.beat("baseline-beat", KAIROS_BEAT_KEEPS_ENTRIES="0") as beat:
        beat.wait_for_log(BEAT_READY, READY_TIMEOUT)
        started = time.time()
        meter = CpuMeter(
            [
                Tracked("beat (baseline)", beat.pid),
                Tracked("postgres", env.postgres.pid),
                Tracked("redis", env.redis.pid),
            ]
        )
        before = meter.snapshot()
        fill = queue_fill(client, QUEUE, count=count, timeout=timebox, poll=0.05)
        after = meter.snapshot()
    queue_clear(client, QUEUE)
    periodic_tasks_delete()
    ended = fill.last_at if fill.complete and fill.last_at else started + timebox
    return BaselineResult(
        due=count,
        sent=fill.count,
        seconds=ended - started,
        complete=fill.complete,
        first_message_s=fill.first_at - started if fill.first_at else None,
        cpu=cpu_usage(before, after),
    )
