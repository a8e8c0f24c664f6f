"""P5's closing line and sizes, in the form the issue asks for. (That a page of 10 and of
100 run the same queries is tested on the API itself: tests/api/test_posts.py.)"""

from bench.report import p5_line
from bench.sizes import SIZES


def test_p5_line():
    line = p5_line(posts=100_000, p95_ms=31.26, queries_page10=15, queries_page100=15)
    assert line == "P5 posts=100000 p95_ms=31.3 queries_page10=15 queries_page100=15"


def test_the_full_run_lists_a_workspace_of_100000_posts():
    assert SIZES["full"].p5_posts == 100_000
    assert SIZES["smoke"].p5_posts < SIZES["quick"].p5_posts < SIZES["full"].p5_posts
