"""The benchmark report's arithmetic and text, without any server."""

import json
import math

import pytest

from bench.measure import CpuSnapshot, cpu_usage, log_problems
from bench.profiling import profile_summary
from bench.report import (
    Figure,
    Goal,
    Report,
    number,
    p1_line,
    p2_line,
    p3_line,
    p4_line,
    p6_line,
    percentile,
    table,
)


@pytest.mark.parametrize(
    ("q", "expected"),
    [(50, 5), (90, 9), (95, 10), (99, 10), (100, 10), (1, 1), (10, 1), (11, 2)],
)
def test_percentile_is_nearest_rank(q, expected):
    assert percentile([7, 3, 1, 10, 2, 9, 4, 8, 6, 5], q) == expected


def test_percentile_of_nothing_is_nan_so_an_empty_run_never_looks_punctual():
    assert math.isnan(percentile([], 99))


@pytest.mark.parametrize("q", [0, -1, 100.5])
def test_percentile_refuses_a_q_outside_0_to_100(q):
    with pytest.raises(ValueError):
        percentile([1.0], q)


def test_number_fixes_decimals_and_says_nan():
    assert number(2.345, 2) == "2.35"
    assert number(1999.6, 0) == "2000"
    assert number(None) == "nan"
    assert number(math.nan) == "nan"


def test_p1_line():
    line = p1_line(dispatch_per_s=2500.4, baseline_per_s=31.25)
    assert line == "P1 dispatch_jobs_per_s=2500 baseline_jobs_per_s=31.2 ratio=80.0"


def test_p1_line_with_a_baseline_that_sent_nothing():
    assert p1_line(dispatch_per_s=2500, baseline_per_s=0).endswith("ratio=inf")


def test_p2_lines():
    assert (
        p2_line(posts=10000, latency_ms=0, wall_s=12.3456, posts_per_s=810.2)
        == "P2 posts=10000 latency_ms=0 wall_s=12.35 posts_per_s=810"
    )
    assert p2_line(posts=10000, latency_ms=50, wall_s=math.nan, posts_per_s=math.nan) == (
        "P2 posts=10000 latency_ms=50 wall_s=nan posts_per_s=nan"
    )


def test_p3_line_takes_percentiles_of_the_lateness():
    lateness = [0.001 * n for n in range(1, 1001)]
    assert p3_line(rate_per_s=100, lateness_s=lateness) == (
        "P3 rate_per_s=100 p50_s=0.500 p95_s=0.950 p99_s=0.990 max_s=1.000"
    )


def test_p3_line_without_any_post_on_x():
    assert p3_line(rate_per_s=100, lateness_s=[]) == (
        "P3 rate_per_s=100 p50_s=nan p95_s=nan p99_s=nan max_s=nan"
    )


def test_p4_line_shows_memory_before_and_after_idle():
    line = p4_line(
        schedules=1_000_000,
        idle_tick_ms=1.234,
        beat_rss_mb=(104.44, 104.46),
        worker_rss_mb=(297.6, 297.71),
    )
    assert line == (
        "P4 schedules=1000000 idle_tick_ms=1.23 beat_rss_mb=104.4->104.5 worker_rss_mb=297.6->297.7"
    )


def test_p6_line_gives_each_page_and_the_queries():
    line = p6_line(
        posts=1_000_000,
        changelist_ms=412.345,
        dashboard_ms=98.76,
        calendar_month_ms=640.01,
        queries=41,
    )
    assert line == (
        "P6 posts=1000000 changelist_ms=412.3 dashboard_ms=98.8 calendar_month_ms=640.0 queries=41"
    )


def test_table_escapes_pipes_in_cells():
    assert table(["a", "b"], [("x|y", "1")]) == ["| a | b |", "| --- | --- |", "| x\\|y | 1 |"]


def _report() -> Report:
    figure = Figure(
        key="P9",
        title="a figure",
        lines=["P9 a=1", "P9 a=2"],
        rows=[("measure", "42")],
        goals=[Goal("fast", "<= 1 s", "0.5", True), Goal("lean", "flat", "+9", False)],
        cpu={"postgres": 80.4, "worker": 95.0, "other": 3.0, "machine": 178.4},
        notes=["a note"],
        appendix="```\nplan\n```",
        data={"nan": math.nan},
    )
    return Report(mode="quick", started_at="now", settings={"commit": "abc"}, figures=[figure])


def test_markdown_has_tables_cpu_goals_and_appendix():
    markdown = _report().markdown()
    assert "## P9: a figure" in markdown
    assert "| measure | 42 |" in markdown
    assert "| worker | 95 |" in markdown
    assert markdown.index("| worker | 95 |") < markdown.index("| postgres | 80 |")
    assert "| whole machine (of 200) | 178 |" in markdown
    assert "| P9 | lean | flat | +9 | **no** |" in markdown
    assert "- a note" in markdown
    assert "```\nplan\n```" in markdown


def test_lines_come_in_figure_order():
    assert _report().lines() == ["P9 a=1", "P9 a=2"]


def test_write_puts_json_and_markdown_side_by_side(tmp_path):
    path = _report().write(tmp_path / "results", "20260101T000000Z")
    assert path == tmp_path / "results" / "20260101T000000Z.json"
    saved = json.loads(path.read_text())
    assert saved["figures"][0]["lines"] == ["P9 a=1", "P9 a=2"]
    assert (tmp_path / "results" / "20260101T000000Z.md").read_text().startswith("# Kairos")


def test_cpu_usage_is_percent_of_one_core_with_the_rest_as_other_and_steal_apart():
    start = CpuSnapshot(
        at=10.0, seconds={"worker": 1.0}, machine_busy=100.0, machine_stolen=5.0, machine_total=0
    )
    end = CpuSnapshot(
        at=12.0, seconds={"worker": 2.5}, machine_busy=103.0, machine_stolen=5.8, machine_total=0
    )
    assert cpu_usage(start, end) == pytest.approx(
        {"worker": 75.0, "other": 75.0, "machine": 150.0, "stolen": 40.0}
    )


def test_profile_summary_counts_each_function_once_per_stack():
    stacks = [
        "main (a.py:1);tick (publishing/dispatch.py:10);send (kombu/x.py:5) 6",
        "main (a.py:1);tick (publishing/dispatch.py:12);tick (publishing/dispatch.py:10) 3",
        "main (a.py:1);idle (a.py:9) 1",
    ]
    total, ranked = profile_summary(stacks)
    assert total == 10
    shares = {line.function: (line.inclusive, line.own) for line in ranked}
    assert shares["tick (publishing/dispatch.py)"] == (0.9, 0.3)
    assert shares["send (kombu/x.py)"] == (0.6, 0.6)
    assert shares["main (a.py)"] == (1.0, 0.0)


def test_log_problems_counts_errors_and_tracebacks_after_a_mark(tmp_path):
    log = tmp_path / "worker.log"
    log.write_text("2026 ERROR old trouble\n")
    mark = log.stat().st_size
    with log.open("a") as out:
        out.write("2026 INFO fine\nTraceback (most recent call last):\n2026 ERROR task failed\n")
    count, examples = log_problems(log, since=mark)
    assert count == 2
    assert examples == ["Traceback (most recent call last):", "2026 ERROR task failed"]
