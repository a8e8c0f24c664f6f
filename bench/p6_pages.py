"""P6: the pages staff open all day, over a large database: the post list, the dashboard
(the admin's index) and a month of the calendar.

N posts are COPYed in, spread over `WORKSPACES` workspaces (brands) of one sandbox
account each and over two years: the 95% in the past published (a job each), the
rest scheduled ahead. One workspace's owner opens each page in this process through
Django's test client (the whole view, middleware and templates included, no HTTP
server); the median of `REPEATS` requests after one warm-up is the figure. The
number of queries each page runs is counted twice, with 1% of the posts loaded and
with all of them: it must not grow with the data.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from statistics import median

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, SocialAccount, Workspace
from bench.report import Figure, Goal, number, p6_line
from bench.scene import SPREAD_FUTURE_SHARE, database_reset, posts_copy, spread_at
from posts.models import Post

GOAL_MS = 1000.0
WORKSPACES = 100
REPEATS = 5
FIRST_SHARE = 0.01


def run(*, posts: int, reuse: bool = False) -> Figure:
    """`reuse`: measure the posts an earlier run of the same size left in the database
    (`python -m bench --data DIR`), with the query counts it took at 1%."""
    earlier = _load_earlier(posts=posts) if reuse else None
    if earlier is None:
        database_reset()
    workspaces, accounts = _brands_create()
    client = _owner_client(workspaces[0])
    if earlier is None:
        few, load_s = _load(client=client, accounts=accounts, posts=posts)
        _load_remember(posts=posts, few=few, load_s=load_s)
    else:
        few, load_s = earlier
    now = timezone.now()
    timings = {name: _timed(client, url) for name, url in _pages(now).items()}
    many = {name: queries for name, (_, queries, _) in timings.items()}
    median_ms = {name: median(ms) for name, (ms, _, _) in timings.items()}
    steady = few == many
    return Figure(
        key="P6",
        title=f"{posts:,} posts: the post list, the dashboard and a month of the calendar",
        lines=[
            p6_line(
                posts=posts,
                changelist_ms=median_ms["changelist"],
                dashboard_ms=median_ms["dashboard"],
                calendar_month_ms=median_ms["calendar_month"],
                queries=sum(many.values()),
            )
        ],
        rows=[
            ("posts / workspaces / of them in the measured one", _shape(posts)),
            ("bulk load with COPY, then VACUUM ANALYZE (s)", number(load_s, 1)),
            *(
                (
                    f"{name}: median of {REPEATS} (ms), queries with 1% / all posts",
                    f"{number(median_ms[name], 1)}, {few[name]} / {many[name]}",
                )
                for name in timings
            ),
            ("calendar month: entries in the feed", str(timings["calendar_month"][2])),
        ],
        goals=[
            *(
                Goal(
                    f"{name} answers",
                    f"<= {GOAL_MS:g} ms",
                    number(median_ms[name], 1),
                    median_ms[name] <= GOAL_MS,
                )
                for name in timings
            ),
            Goal(
                "queries per page do not grow with the data",
                "same with 1% and all",
                ", ".join(f"{name} {few[name]}->{many[name]}" for name in timings),
                steady,
            ),
        ],
        notes=[
            "Requests run in this process through Django's test client as the owner of one "
            "workspace (what a person there sees), so the times include the view, the "
            "templates and the queries, not an HTTP server.",
            "The calendar month is the 6-week grid FullCalendar asks for, around now.",
            *(
                [
                    "The posts were loaded by an earlier run (--data), and the queries at 1% "
                    "counted then: load again (a new --data folder) after changing a page."
                ]
                if earlier
                else []
            ),
        ],
        data={"load_s": load_s, "median_ms": median_ms, "queries": many, "queries_1pct": few},
    )


def _load(
    *, client: Client, accounts: list[SocialAccount], posts: int
) -> tuple[dict[str, int], float]:
    """Load the posts: 1% first, each page's queries counted, then the rest. The counts
    and the seconds the load took."""
    now = timezone.now()
    few_numbers = _first_numbers(posts=posts)
    started = time.monotonic()
    _posts_load(accounts=accounts, numbers=few_numbers, total=posts, now=now)
    few = {name: _queries(client, url) for name, url in _pages(now).items()}
    for rest in (range(few_numbers.start), range(few_numbers.stop, posts)):
        _posts_load(accounts=accounts, numbers=rest, total=posts, now=now)
    return few, time.monotonic() - started


# What a load left, for a later run to reuse: a table of the bench's own (a reset
# empties the posts, not it; the post count tells whether the posts are still there).
_LOADS = "bench_p6_load"


def _load_remember(*, posts: int, few: dict[str, int], load_s: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {_LOADS} (posts int, few text, load_s float)")
        cursor.execute(f"DELETE FROM {_LOADS}")
        cursor.execute(
            f"INSERT INTO {_LOADS} VALUES (%s, %s, %s)", [posts, json.dumps(few), load_s]
        )


def _load_earlier(*, posts: int) -> tuple[dict[str, int], float] | None:
    """The 1% query counts and load time of the posts in the database, if an earlier
    load of `posts` left them there untouched."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [_LOADS])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT posts, few, load_s FROM {_LOADS}")
        row = cursor.fetchone()
    if row is None or row[0] != posts or Post.objects.count() != posts:
        return None
    return json.loads(row[1]), row[2]


def _shape(posts: int) -> str:
    return f"{posts} / {WORKSPACES} / {posts // WORKSPACES}"


def _pages(now: datetime) -> dict[str, str]:
    first = date(now.year, now.month, 1)
    grid = first - timedelta(days=first.weekday())
    end = grid + timedelta(days=42)
    feed = reverse("calendar-feed")
    return {
        "changelist": reverse("admin:posts_post_changelist"),
        "dashboard": reverse("admin:index"),
        "calendar_month": f"{feed}?start={grid}T00:00:00&end={end}T00:00:00&zone=UTC",
    }


def _get(client: Client, url: str):
    response = client.get(url, secure=True, HTTP_HOST="localhost")
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        _get(client, url)
    return len(captured)


def _timed(client: Client, url: str) -> tuple[list[float], int, int]:
    """Milliseconds of `REPEATS` requests after a warm-up, the queries of one, and the
    number of calendar events (0 for other pages)."""
    warm = _get(client, url)
    entries = len(warm.json()["events"]) if warm["Content-Type"] == "application/json" else 0
    ms = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        _get(client, url)
        ms.append(1000 * (time.perf_counter() - began))
    return ms, _queries(client, url), entries


def _brands_create() -> tuple[list[Workspace], list[SocialAccount]]:
    """`WORKSPACES` workspaces with one sandbox account each (made once per database)."""
    existing = list(Workspace.objects.filter(slug__startswith="p6-").order_by("pk"))
    if not existing:
        with transaction.atomic():
            for number in range(WORKSPACES):
                workspace = Workspace.objects.create(
                    name=f"P6 brand {number:03d}", slug=f"p6-{number:03d}"
                )
                SocialAccount.objects.create(
                    workspace=workspace,
                    network=SocialAccount.Network.SANDBOX,
                    handle=f"p6brand{number:03d}",
                    external_id=f"p6-{number}",
                )
        existing = list(Workspace.objects.filter(slug__startswith="p6-").order_by("pk"))
    accounts = list(SocialAccount.objects.filter(workspace__in=existing).order_by("workspace_id"))
    return existing, accounts


def _owner_client(workspace: Workspace) -> Client:
    user, _ = get_user_model().objects.get_or_create(
        username="p6-owner", defaults={"is_staff": True}
    )
    Membership.objects.get_or_create(
        user=user, workspace=workspace, defaults={"role": Membership.Role.OWNER}
    )
    client = Client()
    client.force_login(user)
    return client


def _first_numbers(*, posts: int) -> range:
    """The posts loaded first (1%, and at least one per workspace): a run of them from
    now on, so the measured workspace already has a post in the month shown."""
    count = max(int(posts * FIRST_SHARE), WORKSPACES)
    around_now = int(posts * (1 - SPREAD_FUTURE_SHARE))
    start = around_now - around_now % WORKSPACES  # a post of the first workspace
    return range(start, min(start + count, posts))


def _posts_load(
    *, accounts: list[SocialAccount], numbers: range, total: int, now: datetime
) -> None:
    """Posts `numbers` (a run) of `total`, dealt round the accounts' workspaces, spread
    over two years (`spread_at`)."""
    posts_copy(
        accounts=accounts, numbers=numbers, at=lambda n: spread_at(n, total=total, now=now), now=now
    )
