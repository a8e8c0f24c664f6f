"""P7's closing line, in the form the issue asks for."""

from bench.report import p7_line
from bench.sizes import SIZES


def test_p7_line():
    line = p7_line(posts=100_000, snapshots=2_000_000, account_stats_ms=123.45, best_time_ms=6.04)
    assert line == "P7 posts=100000 snapshots=2000000 account_stats_ms=123.5 best_time_ms=6.0"


def test_the_full_run_has_the_issues_sizes():
    assert (SIZES["full"].p7_posts, SIZES["full"].p7_snapshots) == (100_000, 2_000_000)
