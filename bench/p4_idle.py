"""P4: a large, quiet database: the tick that finds nothing due, and memory over idle time.

One million future schedules, and published jobs of past occurrences (so that
the job table is not trivially small), are COPYed in. The tick that
finds nothing due must cost the database no more than a few index probes: its
queries are timed as this process sends them, and their EXPLAIN ANALYZE plans
are printed to show the partial indexes at work. Then beat and a worker run
idle while their resident memory is read at the start and at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from statistics import median
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import SocialAccount
from bench.cluster import dispatch_tick_every
from bench.env import BenchEnv, running
from bench.measure import rss_mb
from bench.report import Figure, Goal, number, p4_line, percentile
from bench.scene import database_reset, rows_copy, tables_analyze
from posts.models import Post
from publishing.dispatch import tick
from publishing.models import JobStatus, PublishJob
from scheduling.models import Schedule

GOAL_IDLE_TICK_MS = 5.0
# RSS counts as flat when it grew by less than this over the idle period.
FLAT_MB = 5.0
IDLE_TICKS = 50
# Long enough for each prefork child to have run a few ticks (its first one loads code).
WARM_UP_SECONDS = 15.0
INDEXES = ("schedule_due_idx", "publish_job_due_idx")
SPACING = timedelta(seconds=30)


def quiet_database_load(*, account: SocialAccount, count: int, history: int) -> float:
    """`count` posts with a schedule each, all in the future, the first `history` of them
    with a published job in the past; returns the seconds it took."""
    started = time.monotonic()
    now = timezone.now()
    with transaction.atomic():
        rows_copy(
            Post,
            ({} for _ in range(count)),
            workspace_id=account.workspace_id,
            status=Post.Status.SCHEDULED,
        )
        post_ids = list(
            Post.objects.filter(workspace_id=account.workspace_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        first = now + timedelta(hours=1)
        rows_copy(
            Schedule,
            (_schedule_row(post_id, first + SPACING * n) for n, post_id in enumerate(post_ids)),
            kind=Schedule.Kind.ONCE,
            timezone="UTC",
            status=Schedule.Status.ACTIVE,
        )
        last = now - timedelta(days=1)
        rows_copy(
            PublishJob,
            (
                _history_row(post_id, last - SPACING * n)
                for n, post_id in enumerate(post_ids[:history])
            ),
            account_id=account.pk,
            status=JobStatus.PUBLISHED,
        )
    tables_analyze()
    return time.monotonic() - started


def _schedule_row(post_id: int, due) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "local_date": due.date(),
        "local_time": due.time(),
        "next_occurrence_at": due,
    }


def _history_row(post_id: int, at) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "occurrence_at": at,
        "occurrence_number": 1,
        "due_at": at,
        "next_attempt_at": at,
        "published_at": at,
        "attempt_count": 1,
    }


@contextmanager
def queries_timed() -> Iterator[list[tuple[str, Any, float]]]:
    """Record (sql, params, seconds) of each query this process sends, timed client-side."""
    queries: list[tuple[str, Any, float]] = []

    def timer(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((sql, params, time.perf_counter() - began))

    with connection.execute_wrapper(timer):
        yield queries


def idle_ticks(samples: int) -> tuple[list[float], list[float], list[tuple[str, Any, float]]]:
    """Run `samples` ticks that find nothing; return their DB ms, wall ms and one tick's queries."""
    tick()  # The first one opens the connection.
    db_ms: list[float] = []
    wall_ms: list[float] = []
    for _ in range(samples):
        with queries_timed() as queries:
            began = time.perf_counter()
            result = tick()
            wall_ms.append(1000 * (time.perf_counter() - began))
        if result:
            raise RuntimeError(f"the idle tick found work: {result}")
        db_ms.append(1000 * sum(seconds for _, _, seconds in queries))
    return db_ms, wall_ms, queries


def plans_explain(queries: list[tuple[str, Any, float]]) -> list[tuple[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each SELECT a tick ran, in a transaction rolled back."""
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params, _ in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
        transaction.set_rollback(True)
    return plans


def run(
    env: BenchEnv,
    *,
    account: SocialAccount,
    schedules: int,
    history_jobs: int,
    idle_seconds: float,
) -> Figure:
    database_reset()
    load_s = quiet_database_load(account=account, count=schedules, history=history_jobs)
    db_ms, wall_ms, queries = idle_ticks(IDLE_TICKS)
    plans = plans_explain(queries)
    used = {index: any(index in plan for _, plan in plans) for index in INDEXES}
    rss = idle_memory(env, seconds=idle_seconds)
    idle_tick_ms = median(db_ms)
    grew = {name: after - before for name, (before, after) in rss.items()}
    appendix = ["### EXPLAIN ANALYZE of the idle tick's queries", ""]
    for sql, plan in plans:
        appendix += ["```sql", sql, "```", "", "```", plan, "```", ""]
    return Figure(
        key="P4",
        title=f"{schedules:,} future schedules: the idle tick and memory at rest",
        lines=[
            p4_line(
                schedules=schedules,
                idle_tick_ms=idle_tick_ms,
                beat_rss_mb=rss["beat"],
                worker_rss_mb=rss["worker"],
            )
        ],
        rows=[
            (
                "schedules (future, active) / history jobs (published)",
                f"{schedules} / {history_jobs}",
            ),
            ("bulk load with COPY, then VACUUM ANALYZE (s)", number(load_s, 1)),
            (
                f"idle tick DB time, median / p95 of {IDLE_TICKS} (ms)",
                f"{number(idle_tick_ms, 2)} / {number(percentile(db_ms, 95), 2)}",
            ),
            (
                "idle tick wall time in this process, median (ms)",
                number(median(wall_ms), 2),
            ),
            ("queries per idle tick", str(len(queries))),
            *(
                (f"plan uses {index}", "yes" if found else "**no**")
                for index, found in used.items()
            ),
            ("idle period (s)", f"{idle_seconds:g}"),
            *(
                (f"{name} RSS before -> after idle (MiB)", f"{before:.1f} -> {after:.1f}")
                for name, (before, after) in rss.items()
            ),
        ],
        goals=[
            Goal(
                "idle tick DB time",
                f"<= {GOAL_IDLE_TICK_MS:g} ms",
                number(idle_tick_ms, 2),
                idle_tick_ms <= GOAL_IDLE_TICK_MS and all(used.values()),
            ),
            Goal(
                "RSS flat while idle",
                f"grows < {FLAT_MB:g} MiB",
                ", ".join(f"{name} {delta:+.1f}" for name, delta in grew.items()),
                all(delta < FLAT_MB for delta in grew.values()),
            ),
        ],
        notes=[
            "DB time is the sum of the tick's queries as timed in this process (round trips "
            "over loopback included); the plans show the server's own time.",
            "Worker RSS adds up the main process and its prefork children (shared pages count "
            "once per process).",
        ],
        appendix="\n".join(appendix),
        data={
            "load_s": load_s,
            "idle_tick_db_ms": db_ms,
            "idle_tick_wall_ms": wall_ms,
            "indexes_used": used,
            "rss_mb": rss,
            "idle_seconds": idle_seconds,
            "plans": [{"sql": sql, "plan": plan} for sql, plan in plans],
        },
    )


def idle_memory(env: BenchEnv, *, seconds: float) -> dict[str, tuple[float, float]]:
    """RSS of beat and of a worker as Kairos deploys them, after a warm-up (up to 15 s)
    and after `seconds` more."""
    dispatch_tick_every(1.0)
    beat = env.beat("p4-beat")
    worker = env.worker("p4-worker", queues=["dispatch", "publish", "celery"], concurrency=2)
    with running(worker, beat):
        time.sleep(min(WARM_UP_SECONDS, seconds))
        before = {"beat": rss_mb(beat.pid), "worker": rss_mb(worker.pid)}
        time.sleep(seconds)
        after = {"beat": rss_mb(beat.pid), "worker": rss_mb(worker.pid)}
    return {name: (before[name], after[name]) for name in before}
