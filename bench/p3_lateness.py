"""P3: how late posts reach X under a steady load of due posts.

`rate` posts fall due every second for `seconds` seconds, evenly spaced; each
one's lateness is the fake X's receipt time minus its due time. What adds up:
up to one tick interval before the tick sees the post, the tick itself, the
broker, a free worker, and the publish attempt.
"""

from __future__ import annotations

import math
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
from bench.measure import CpuMeter, cpu_usage
from bench.report import Figure, Goal, number, p3_line, percentile
from bench.scene import database_reset, posts_create, schedules_bring_forward, tables_analyze
from fakex.control import FakeXControl

GOAL_P99_S = 1.0


def run(
    *,
    control: FakeXControl,
    accounts: list[SocialAccount],
    cluster: Cluster,
    rate_per_s: int,
    seconds: int,
    shape: WorkerShape,
    tick_seconds: float,
) -> Figure:
    database_reset()
    control.clear_faults()
    count = rate_per_s * seconds
    posts = posts_create(accounts=accounts, count=count, label="P3")
    tables_analyze()
    first = timezone.now() + timedelta(seconds=LEAD_SECONDS)
    due_at = schedules_bring_forward(first=first, step=timedelta(seconds=1 / rate_per_s))
    meter = CpuMeter(cluster.tracked)
    marks = cluster.log_marks()
    sleep_until(first)
    before = meter.snapshot()
    # Stragglers get as long again as the stream lasted; later ones count as missing.
    statuses, settled = jobs_wait_settled(count=count, timeout=2 * seconds)
    after = meter.snapshot()
    created = creations_on_x(control, posts)
    # A post not on X by the end is later than any measured: it counts as infinitely late.
    missing = count - len(created)
    lateness = sorted(created[pk] - due_at[pk].timestamp() for pk in created)
    lateness += [math.inf] * missing
    p50, p95, p99 = (percentile(lateness, q) for q in (50, 95, 99))
    cpu = cpu_usage(before, after)
    return Figure(
        key="P3",
        title=f"lateness under a steady {rate_per_s} due posts per second",
        lines=[p3_line(rate_per_s=rate_per_s, lateness_s=lateness)],
        rows=[
            ("due posts", f"{count} ({rate_per_s}/s for {seconds} s)"),
            ("tick every (s)", f"{tick_seconds:g}"),
            ("publish workers", str(shape)),
            ("posts on the fake X", f"{len(created)} of {count}"),
            ("jobs by status", str(statuses)),
            ("settled in time", "yes" if settled else "no"),
            ("lateness p50 / p95 / p99 (s)", " / ".join(number(v, 3) for v in (p50, p95, p99))),
            (
                "lateness min / max (s)",
                f"{number(min(lateness, default=None), 3)} / "
                f"{number(max(lateness, default=None), 3)}",
            ),
        ],
        goals=[
            Goal(
                f"p99 lateness at {rate_per_s}/s",
                f"<= {GOAL_P99_S:g} s",
                number(p99, 3),
                p99 <= GOAL_P99_S and len(created) == count,
            )
        ],
        cpu=cpu,
        notes=[
            "Lateness is the fake X's receipt time minus the due time, both read from this "
            "machine's clock; a post can be no earlier than due, as no tick takes it sooner.",
            "A post not on X when the wait ended counts as infinitely late (`inf`).",
            *cluster.problems_since(marks),
        ],
        data={
            "posts": count,
            "on_x": len(created),
            "jobs": statuses,
            "tick_seconds": tick_seconds,
            "shape": str(shape),
            "lateness_s": {"p50": p50, "p95": p95, "p99": p99, "max": max(lateness, default=None)},
            "lateness_histogram": _histogram([v for v in lateness if v != math.inf]),
            "missing": missing,
        },
    )


def _histogram(lateness: list[float], *, width: float = 0.1) -> dict[str, int]:
    """How many posts were late by [0, 0.1), [0.1, 0.2), … seconds."""
    buckets: dict[str, int] = {}
    for value in lateness:
        low = int(value // width) * width
        key = f"{low:.1f}-{low + width:.1f}"
        buckets[key] = buckets.get(key, 0) + 1
    return dict(sorted(buckets.items(), key=lambda item: float(item[0].split("-")[0])))
