"""P1: due jobs claimed and sent to the broker per second, no network involved.

Kairos: N posts whose schedules are all due. One process runs the dispatch tick
back to back (`bench.ticker`), as beat's ticks follow each other while a backlog
lasts; each tick materialises due schedules into jobs, claims due jobs with SKIP
LOCKED, marks them queued and, after commit, sends them in `publish_jobs` messages
of KAIROS_PUBLISH_BATCH_SIZE jobs. The clock runs from the moment the process is
released until the message carrying the last job is in Redis (the jobs in new
messages are counted as they arrive). No worker consumes them.

Baseline: the same N posts as django-celery-beat one-off tasks (bench.baseline).
"""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone

from accounts.models import SocialAccount
from bench.baseline import baseline_run
from bench.env import BenchEnv
from bench.measure import (
    CpuMeter,
    Tracked,
    cpu_seconds,
    cpu_usage,
    publish_jobs_in,
    queue_clear,
    queue_fill,
)
from bench.profiling import profile_text, sampled
from bench.report import Figure, Goal, number, p1_line, rate, ratio
from bench.scene import database_reset, jobs_by_status, posts_create, tables_analyze

QUEUE = "publish"
GOAL_PER_S = 2000
GOAL_RATIO = 20
TICK = "dispatch (tick process)"
POSTGRES = "postgres"


def _tick_name(number: int, tickers: int) -> str:
    return TICK if tickers == 1 else f"{TICK} {number}"


def kairos_dispatch(
    env: BenchEnv,
    *,
    accounts: list[SocialAccount],
    count: int,
    timeout: float,
    profile: bool,
    tickers: int = 1,
) -> dict:
    database_reset()
    client = redis.Redis.from_url(env.kairos_env()["CELERY_BROKER_URL"])
    queue_clear(client, QUEUE)
    posts_create(
        accounts=accounts, count=count, label="P1", due=timezone.now() - timedelta(seconds=1)
    )
    tables_analyze()
    go = env.folder / "p1.go"
    results = [env.folder / f"p1-ticks-{number}.json" for number in range(1, tickers + 1)]
    assert env.postgres and env.redis
    # Nothing consumes the messages here, so the cap on jobs waiting in the broker
    # (back-pressure, default 1,000) is lifted to let the tick queue all N.
    processes = [
        env.python(
            f"ticker{number}", "bench.ticker", str(go), str(result), KAIROS_MAX_IN_FLIGHT=str(count)
        )
        for number, result in enumerate(results, start=1)
    ]
    with ExitStack() as stack:
        for process in processes:
            stack.enter_context(process)
        for process in processes:
            process.wait_for_log("ticker ready", timeout=60)
        meter = CpuMeter(
            [
                *(Tracked(_tick_name(n, tickers), p.pid) for n, p in enumerate(processes, 1)),
                Tracked(POSTGRES, env.postgres.pid),
                Tracked("redis", env.redis.pid),
            ]
        )
        stacks = env.folder / "p1-ticker.txt"
        with sampled(processes[0].pid, stacks, enabled=profile):
            before = meter.snapshot()
            started = time.time()
            go.touch()
            fill = queue_fill(
                client, QUEUE, count=count, timeout=timeout, jobs_per_message=publish_jobs_in
            )
            after = meter.snapshot()
        for process in processes:
            process.wait_for_exit(timeout=timeout)
    ticks = [tick for result in results for tick in json.loads(result.read_text())["ticks"]]
    queue_clear(client, QUEUE)
    seconds = (fill.last_at or time.time()) - started
    return {
        "due": count,
        "sent": fill.count,
        "complete": fill.complete,
        "seconds": seconds,
        "per_s": rate(fill.count, seconds) if fill.complete else 0.0,
        "ticks": len(ticks),
        "tick_seconds": [round(tick["seconds"], 3) for tick in ticks],
        "jobs": jobs_by_status(),
        "batch_size": settings.KAIROS_DISPATCH_BATCH_SIZE,
        "tickers": tickers,
        "cpu": cpu_usage(before, after),
        "cpu_us_per_job": {
            name: 1e6 * used / count for name, used in cpu_seconds(before, after).items()
        },
        "profile": profile_text(stacks, title="the tick process") if profile else "",
    }


def run(
    env: BenchEnv,
    *,
    accounts: list[SocialAccount],
    count: int,
    baseline_count: int,
    baseline_timebox: float,
    timeout: float,
    profile: bool = False,
    tickers: int = 1,
) -> Figure:
    kairos = kairos_dispatch(
        env, accounts=accounts, count=count, timeout=timeout, profile=profile, tickers=tickers
    )
    tick_us = sum(us for name, us in kairos["cpu_us_per_job"].items() if name.startswith(TICK))
    baseline = baseline_run(env, count=baseline_count, timebox=baseline_timebox)
    times = ratio(kairos["per_s"], baseline.per_s)
    baseline_note = (
        f"sent all {baseline.sent} in {baseline.seconds:.1f} s"
        if baseline.complete
        else f"sent {baseline.sent} of {baseline.due} in the {baseline.seconds:.0f} s time box"
    )
    figure = Figure(
        key="P1",
        title="dispatch: due jobs claimed and enqueued per second (no network)",
        lines=[p1_line(dispatch_per_s=kairos["per_s"], baseline_per_s=baseline.per_s)],
        rows=[
            ("Kairos: due posts (one account each)", str(count)),
            ("Kairos: jobs queued, messages in Redis", f"{kairos['sent']} of {count}"),
            ("Kairos: seconds from release to last message", number(kairos["seconds"], 2)),
            ("Kairos: jobs per second", number(kairos["per_s"], 0)),
            (
                "Kairos: CPU per job, µs (tick process / PostgreSQL)",
                f"{tick_us:.0f} / {kairos['cpu_us_per_job'][POSTGRES]:.0f}",
            ),
            ("Kairos: dispatch processes ticking at once", str(tickers)),
            ("Kairos: ticks (batch size)", f"{kairos['ticks']} ({kairos['batch_size']})"),
            ("Kairos: job statuses after", str(kairos["jobs"])),
            ("baseline: due one-off PeriodicTasks", str(baseline.due)),
            ("baseline: sent", baseline_note),
            ("baseline: first message after (s)", number(baseline.first_message_s, 2)),
            ("baseline: messages per second", number(baseline.per_s, 1)),
            ("ratio Kairos / baseline", number(times, 1)),
        ],
        goals=[
            Goal(
                "Kairos dispatch rate",
                f">= {GOAL_PER_S} jobs/s",
                number(kairos["per_s"], 0),
                kairos["per_s"] >= GOAL_PER_S,
            ),
            Goal(
                "ratio to the baseline",
                f">= {GOAL_RATIO}x",
                number(times, 1),
                times >= GOAL_RATIO,
            ),
        ],
        cpu={**kairos["cpu"]},
        notes=[
            "Kairos's tick process runs with KAIROS_MAX_IN_FLIGHT=N: nothing consumes the "
            "messages here, and the cap on jobs waiting in the broker would stop it at 1,000.",
            "CPU above is Kairos's run; the baseline's: "
            + ", ".join(f"{k} {v:.0f}%" for k, v in baseline.cpu.items()),
            "The baseline is timed from beat's start-up banner (Django loaded) to the last "
            "message seen in Redis. Each message costs it work in proportion to the enabled "
            "rows (beat compares its whole schedule on every tick, and reloads it all when a "
            "row changes), so its rate falls as N grows; a run cut by the time box reports "
            "the messages sent within it.",
        ],
        appendix=kairos.pop("profile"),
        data={"kairos": kairos, "baseline": baseline.__dict__ | {"per_s": baseline.per_s}},
    )
    return figure
