"""P2: 10,000 posts due in the same second, published on the fake X by Celery workers.

Wall time runs from the due instant to the last creation the fake X recorded; it
is measured twice, with the fake answering at once and with 50 ms of latency
added to every `POST /2/tweets` (a fault set through its control API).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import SocialAccount
from bench.cluster import (
    LEAD_SECONDS,
    Cluster,
    WorkerShape,
    creations_on_x,
    jobs_wait_settled,
    sleep_until,
)
from bench.measure import CpuMeter, Tracked, cpu_seconds, cpu_usage
from bench.profiling import profile_text, sampled
from bench.report import Figure, Goal, number, p2_line, rate
from bench.scene import database_reset, posts_create, schedules_bring_forward, tables_analyze
from fakex.control import FakeXControl

GOAL_WALL_S = 20.0


def publish_burst(
    *,
    control: FakeXControl,
    accounts: list[SocialAccount],
    cluster: Cluster,
    count: int,
    latency_ms: int,
    timeout: float,
    profile_into=None,
) -> dict:
    database_reset()
    control.clear_faults()
    if latency_ms:
        control.set_fault_rates(
            {"latency": 1.0}, latency_ms=latency_ms, method="POST", path_prefix="/2/tweets"
        )
    posts = posts_create(accounts=accounts, count=count, label=f"P2 {latency_ms} ms")
    tables_analyze()
    due = timezone.now() + timedelta(seconds=LEAD_SECONDS)
    schedules_bring_forward(first=due, step=timedelta(0))
    meter = CpuMeter(cluster.tracked)
    marks = cluster.log_marks()
    sleep_until(due)
    with sampled(_publisher_pid(cluster.tracked), profile_into, enabled=profile_into is not None):
        before = meter.snapshot()
        statuses, settled = jobs_wait_settled(count=count, timeout=timeout)
        after = meter.snapshot()
    control.clear_faults()
    created = creations_on_x(control, posts)
    wall = max(created.values(), default=due.timestamp()) - due.timestamp()
    used = cpu_seconds(before, after)
    return {
        "posts": count,
        "latency_ms": latency_ms,
        "on_x": len(created),
        "settled": settled,
        "jobs": statuses,
        "wall_s": wall,
        "posts_per_s": rate(len(created), wall),
        "cpu": cpu_usage(before, after),
        "problems": cluster.problems_since(marks),
        "cpu_ms_per_post": {name: 1000 * seconds / count for name, seconds in used.items()},
        "profile": profile_text(profile_into, title=f"publish workers, {latency_ms} ms")
        if profile_into
        else "",
    }


def _publisher_pid(tracked: list[Tracked]) -> int:
    return next(item.pid for item in tracked if item.name.startswith("publish worker"))


def figure(runs: list[dict], *, shape: WorkerShape, tick_seconds: float) -> Figure:
    rows = [("publish workers", str(shape)), ("tick every (s)", f"{tick_seconds:g}")]
    goals = []
    notes = []
    for run in runs:
        label = f"{run['latency_ms']} ms"
        rows += [
            (f"{label}: posts on the fake X", f"{run['on_x']} of {run['posts']}"),
            (f"{label}: jobs by status", str(run["jobs"])),
            (f"{label}: wall from due to last creation (s)", number(run["wall_s"], 2)),
            (f"{label}: posts per second", number(run["posts_per_s"], 0)),
            (
                f"{label}: CPU ms per post (workers / postgres / fake X)",
                " / ".join(
                    number(value, 2)
                    for value in (
                        sum(v for k, v in run["cpu_ms_per_post"].items() if "worker" in k),
                        run["cpu_ms_per_post"].get("postgres"),
                        run["cpu_ms_per_post"].get("fake X"),
                    )
                ),
            ),
        ]
        notes += [f"{label}: {problem}" for problem in run["problems"]]
        notes.append(
            f"CPU at {label} (% of one core): "
            + ", ".join(f"{name} {value:.0f}" for name, value in run["cpu"].items())
        )
        if run["latency_ms"] == 0:
            goals.append(
                Goal(
                    "10,000 posts due at once, 0 ms",
                    f"<= {GOAL_WALL_S:g} s",
                    number(run["wall_s"], 1),
                    run["wall_s"] <= GOAL_WALL_S and run["on_x"] == run["posts"],
                )
            )
    return Figure(
        key="P2",
        title="throughput: posts due in the same second, published on the fake X",
        lines=[
            p2_line(
                posts=run["posts"],
                latency_ms=run["latency_ms"],
                wall_s=run["wall_s"],
                posts_per_s=run["posts_per_s"],
            )
            for run in runs
        ],
        rows=rows,
        goals=goals,
        cpu=runs[0]["cpu"],
        notes=notes,
        appendix="\n\n".join(run.pop("profile") for run in runs if run.get("profile")),
        data={"shape": str(shape), "tick_seconds": tick_seconds, "runs": runs},
    )
