"""The benchmark report: Markdown for people, JSON for machines, and one line per figure.

Plain data in, text out, so that it is tested without any server. The closing
lines keep one fixed form each, for people comparing runs and for scripts:

    P1 dispatch_jobs_per_s=… baseline_jobs_per_s=… ratio=…
    P2 posts=10000 latency_ms=0 wall_s=… posts_per_s=…
    P3 rate_per_s=100 p50_s=… p95_s=… p99_s=… max_s=…
    P4 schedules=1000000 idle_tick_ms=… beat_rss_mb=BEFORE->AFTER worker_rss_mb=BEFORE->AFTER
    P5 posts=100000 p95_ms=… queries_page10=… queries_page100=…
    P6 posts=1000000 changelist_ms=… dashboard_ms=… calendar_month_ms=… queries=…
    P7 posts=100000 snapshots=2000000 account_stats_ms=… best_time_ms=…
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Goal:
    """A target a figure is held to; `met` is None when the run could not tell."""

    name: str
    target: str
    measured: str
    met: bool | None


@dataclass
class Figure:
    key: str
    title: str
    lines: list[str]
    rows: list[tuple[str, str]] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    # CPU per process family during the measured window, % of one core.
    cpu: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Long text shown after the tables (query plans).
    appendix: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    mode: str
    started_at: str
    settings: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)

    def markdown(self) -> str:
        out = [f"# Kairos benchmarks ({self.mode} run, {self.started_at})", ""]
        out += table(["setting", "value"], [(k, str(v)) for k, v in self.settings.items()])
        for figure in self.figures:
            out += ["", f"## {figure.key}: {figure.title}", ""]
            out += table(["measure", "value"], figure.rows)
            if figure.cpu:
                out += ["", f"CPU during {figure.key}'s measured window (% of one core; 2 cores):"]
                out += ["", *table(["process", "CPU %"], cpu_rows(figure.cpu))]
            if figure.notes:
                out += ["", *(f"- {note}" for note in figure.notes)]
            if figure.appendix:
                out += ["", figure.appendix]
        goals = [(f.key, goal) for f in self.figures for goal in f.goals]
        if goals:
            out += ["", "## Goals", ""]
            out += table(
                ["figure", "goal", "target", "measured", "met"],
                [(key, g.name, g.target, g.measured, verdict(g.met)) for key, g in goals],
            )
        return "\n".join(out)

    def as_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str, allow_nan=True)

    def lines(self) -> list[str]:
        return [line for figure in self.figures for line in figure.lines]

    def write(self, folder: Path, stamp: str) -> Path:
        """Write `<stamp>.json` and `<stamp>.md` into `folder`; return the JSON's path."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stamp}.md").write_text(self.markdown() + "\n")
        path = folder / f"{stamp}.json"
        path.write_text(self.as_json() + "\n")
        return path


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    return lines


def cpu_rows(cpu: Mapping[str, float]) -> list[tuple[str, str]]:
    named = sorted(
        (
            (name, value)
            for name, value in cpu.items()
            if name not in ("other", "machine", "stolen")
        ),
        key=lambda item: -item[1],
    )
    rows = [(name, f"{value:.0f}") for name, value in named]
    if "other" in cpu:
        rows.append(("other (not ours, or not tracked)", f"{cpu['other']:.0f}"))
    if "machine" in cpu:
        rows.append(("whole machine (of 200)", f"{cpu['machine']:.0f}"))
    if "stolen" in cpu:
        rows.append(("stolen by the hypervisor (steal; of 200)", f"{cpu['stolen']:.0f}"))
    return rows


def verdict(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[met]


def number(value: float | None, digits: int = 1) -> str:
    """A figure for a line or table: fixed decimals, `nan` when there is none."""
    if value is None or math.isnan(value):
        return "nan"
    return f"{value:.{digits}f}"


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (the smallest value with q% of values at or below it).

    NaN for no values, so an empty run never looks punctual.
    """
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], not {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1]


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.inf


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else math.nan


def p1_line(*, dispatch_per_s: float, baseline_per_s: float) -> str:
    return (
        f"P1 dispatch_jobs_per_s={number(dispatch_per_s, 0)} "
        f"baseline_jobs_per_s={number(baseline_per_s, 1)} "
        f"ratio={number(ratio(dispatch_per_s, baseline_per_s), 1)}"
    )


def p2_line(*, posts: int, latency_ms: int, wall_s: float, posts_per_s: float) -> str:
    return (
        f"P2 posts={posts} latency_ms={latency_ms} wall_s={number(wall_s, 2)} "
        f"posts_per_s={number(posts_per_s, 0)}"
    )


def p3_line(*, rate_per_s: int, lateness_s: Sequence[float]) -> str:
    p50, p95, p99 = (percentile(lateness_s, q) for q in (50, 95, 99))
    top = max(lateness_s, default=math.nan)
    return (
        f"P3 rate_per_s={rate_per_s} p50_s={number(p50, 3)} p95_s={number(p95, 3)} "
        f"p99_s={number(p99, 3)} max_s={number(top, 3)}"
    )


def p7_line(*, posts: int, snapshots: int, account_stats_ms: float, best_time_ms: float) -> str:
    return (
        f"P7 posts={posts} snapshots={snapshots} account_stats_ms={number(account_stats_ms)} "
        f"best_time_ms={number(best_time_ms)}"
    )


def p4_line(
    *,
    schedules: int,
    idle_tick_ms: float,
    beat_rss_mb: tuple[float, float],
    worker_rss_mb: tuple[float, float],
) -> str:
    return (
        f"P4 schedules={schedules} idle_tick_ms={number(idle_tick_ms, 2)} "
        f"beat_rss_mb={_before_after(beat_rss_mb)} worker_rss_mb={_before_after(worker_rss_mb)}"
    )


def p5_line(*, posts: int, p95_ms: float, queries_page10: int, queries_page100: int) -> str:
    return (
        f"P5 posts={posts} p95_ms={number(p95_ms, 1)} queries_page10={queries_page10} "
        f"queries_page100={queries_page100}"
    )


def p6_line(
    *,
    posts: int,
    changelist_ms: float,
    dashboard_ms: float,
    calendar_month_ms: float,
    queries: int,
) -> str:
    return (
        f"P6 posts={posts} changelist_ms={number(changelist_ms, 1)} "
        f"dashboard_ms={number(dashboard_ms, 1)} "
        f"calendar_month_ms={number(calendar_month_ms, 1)} queries={queries}"
    )


def _before_after(values: tuple[float, float]) -> str:
    before, after = values
    return f"{number(before, 1)}->{number(after, 1)}"
