"""P5: an integration lists posts through the REST API, deep in a big workspace.

`posts` posts are COPYed into the bench's workspace (scene.posts_copy: part, target,
schedule, a published job for the past ones), dealt round `ACCOUNTS` of its X
accounts and spread over two years, each with a campaign and one or two of `TAGS`
tags. A workspace API key (scope `read`) lists them as an integration would:
`GET /api/v1/posts/?status=published&tag=…&account=…`, newest first, 50 a page,
following the cursor of each page to the next one up to page `PAGE` (or the last
full one, at smaller sizes), then fetching that page `requests` times: the p95 is the
figure. Requests run in this process through Django's test client (the whole view,
its middleware, authentication, throttle and queries; no HTTP server), once this
process has done what a web worker does when loaded (config/wsgi.py). The queries
of one request are counted for a page of 10 and a page of 100: they must be equal,
or a serializer reads something row by row.
"""

from __future__ import annotations

import gc
import time
from datetime import datetime, timedelta
from statistics import median
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.keys import api_key_create
from accounts.models import Membership, SocialAccount, Workspace
from bench.report import Figure, Goal, number, p5_line, percentile
from bench.scene import database_reset, posts_copy, rows_copy, spread_at, tables_analyze
from posts.models import Campaign, Post, Tag

GOAL_P95_MS = 50.0
ACCOUNTS = 4
TAGS = 5
CAMPAIGNS = 10
PAGE = 50
PAGE_SIZE = 50
# A post is written a couple of days before it goes out.
WRITTEN_BEFORE = timedelta(days=2)
LIST = "/api/v1/posts/"


def run(*, accounts: list[SocialAccount], posts: int, requests: int) -> Figure:
    database_reset()
    chosen = accounts[:ACCOUNTS]
    workspace = chosen[0].workspace
    tags, campaigns = _labels(workspace)
    load_s = _load(accounts=chosen, tags=tags, campaigns=campaigns, posts=posts)
    client = _key_client(workspace)
    _web_worker_start()
    query = f"status=published&tag={tags[0].pk}&account={chosen[0].pk}"
    matching = (
        Post.objects.filter(status=Post.Status.PUBLISHED, tags=tags[0], targets__account=chosen[0])
        .distinct()
        .count()
    )
    page, url = _walk(client, f"{LIST}?{query}&page_size={PAGE_SIZE}", pages=PAGE)
    _get(client, url)  # warm-up
    ms, cpu_ms = [], []
    full_collections = gc.get_stats()[2]["collections"]
    for _ in range(requests):
        began, began_cpu = time.perf_counter(), time.process_time()
        _get(client, url)
        ms.append(1000 * (time.perf_counter() - began))
        cpu_ms.append(1000 * (time.process_time() - began_cpu))
    full_collections = gc.get_stats()[2]["collections"] - full_collections
    p95 = percentile(ms, 95)
    queries = {size: _queries(client, f"{LIST}?{query}&page_size={size}") for size in (10, 100)}
    queries_deep = _queries(client, url)
    same = queries[10] == queries[100]
    return Figure(
        key="P5",
        title=f"The posts API: a filtered list of {posts:,} posts, page {page}",
        lines=[
            p5_line(
                posts=posts, p95_ms=p95, queries_page10=queries[10], queries_page100=queries[100]
            )
        ],
        rows=[
            ("posts in the workspace / accounts / tags / campaigns", _shape(posts)),
            ("posts the filter matches", str(matching)),
            ("bulk load with COPY, then VACUUM ANALYZE (s)", number(load_s, 1)),
            ("page measured (of 50 posts, reached by following `next`)", str(page)),
            (f"that page, {requests} requests: median / p95 / max (ms)", _spread(ms)),
            ("CPU of this process a request: median / p95 / max (ms)", _spread(cpu_ms)),
            (f"full garbage collections during the {requests} requests", str(full_collections)),
            (
                "queries: page of 10 / of 100 / the measured page",
                f"{queries[10]} / {queries[100]} / {queries_deep}",
            ),
        ],
        goals=[
            Goal(
                f"page {page} answers (p95)",
                f"<= {GOAL_P95_MS:g} ms",
                number(p95, 1),
                p95 <= GOAL_P95_MS,
            ),
            Goal(
                "queries do not grow with the page",
                "same for 10 and 100",
                f"{queries[10]} / {queries[100]}",
                same,
            ),
        ],
        notes=[
            f"`GET {LIST}?status=published&tag=TAG&account=ACCOUNT` with a "
            "workspace API key (scope read), in this process through Django's test "
            "client: authentication, throttle, filters, the cursor's page and its serializer, "
            "not an HTTP server. Its CPU a request (the view's Python; PostgreSQL's work is "
            "apart) depends far less on what else the machine runs than the times do.",
            *(
                [
                    f"{posts:,} posts give {matching} matching: the last full page is "
                    f"{page}, not {PAGE}."
                ]
                if page < PAGE
                else []
            ),
        ],
        appendix=_plan(client, url),
        data={
            "ms": ms,
            "cpu_ms": cpu_ms,
            "full_collections": full_collections,
            "p95_ms": p95,
            "page": page,
            "queries": queries,
            "matching": matching,
        },
    )


def _shape(posts: int) -> str:
    return f"{posts} / {ACCOUNTS} / {TAGS} / {CAMPAIGNS}"


def _spread(ms: list[float]) -> str:
    return f"{number(median(ms), 1)} / {number(percentile(ms, 95), 1)} / {number(max(ms), 1)}"


def _labels(workspace: Workspace) -> tuple[list[Tag], list[Campaign]]:
    """The workspace's `TAGS` tags and `CAMPAIGNS` campaigns (made once per database)."""
    tags = [
        Tag.objects.get_or_create(workspace=workspace, name=f"P5 tag {number}")[0]
        for number in range(TAGS)
    ]
    today = timezone.localdate()
    campaigns = [
        Campaign.objects.get_or_create(
            workspace=workspace,
            name=f"P5 campaign {number}",
            defaults={"starts_on": today, "ends_on": today + timedelta(days=30)},
        )[0]
        for number in range(CAMPAIGNS)
    ]
    return tags, campaigns


def _load(
    *, accounts: list[SocialAccount], tags: list[Tag], campaigns: list[Campaign], posts: int
) -> float:
    """The posts, their campaigns and tags; returns the seconds it took."""
    started = time.monotonic()
    now = timezone.now()

    def at(number: int) -> datetime:
        return spread_at(number, total=posts, now=now)

    def columns(number: int) -> dict[str, Any]:
        return {
            "campaign_id": campaigns[number // 20 % CAMPAIGNS].pk,
            "created_at": at(number) - WRITTEN_BEFORE,
            "updated_at": at(number),
        }

    ids = posts_copy(accounts=accounts, numbers=range(posts), at=at, now=now, columns=columns)
    rows_copy(
        Post.tags.through,
        (
            {"post_id": post_id, "tag_id": tag.pk}
            for number, post_id in enumerate(ids)
            for tag in _tags_of(number, tags)
        ),
    )
    tables_analyze()
    return time.monotonic() - started


def _tags_of(number: int, tags: list[Tag]) -> list[Tag]:
    """One tag each, a second for every third post; independent of the account (`n % 4`)."""
    first = number // ACCOUNTS % len(tags)
    return [tags[first], *([tags[(first + 2) % len(tags)]] if number % 3 == 0 else [])]


def _key_client(workspace: Workspace) -> Client:
    owner, _ = get_user_model().objects.get_or_create(
        username="p5-owner", defaults={"is_staff": True}
    )
    Membership.objects.get_or_create(
        user=owner, workspace=workspace, defaults={"role": Membership.Role.OWNER}
    )
    _, secret = api_key_create(workspace=workspace, name="P5 bench", scopes=["read"], actor=owner)
    return Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")


def _web_worker_start() -> None:
    """What a web worker does once loaded (config/wsgi.py): here too, the objects this
    process holds by now are frozen out of the garbage collector's walks."""
    import config.wsgi  # noqa: F401


def _get(client: Client, url: str) -> dict:
    response = client.get(url, secure=True, HTTP_HOST="localhost")
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    return response.json()


def _walk(client: Client, url: str, *, pages: int) -> tuple[int, str]:
    """Follow `next` from the first page to page `pages`, or to the last full page:
    that page's number and URL."""
    page = 1
    answer = _get(client, url)
    while page < pages and answer["next"] is not None:
        following_url = _local(answer["next"])
        following = _get(client, following_url)
        if len(following["results"]) < PAGE_SIZE:
            break
        url, answer, page = following_url, following, page + 1
    return page, url


def _local(absolute: str) -> str:
    parts = urlsplit(absolute)
    return f"{parts.path}?{parts.query}"


def _queries(client: Client, url: str) -> int:
    """The queries of one request, right after another (so that a key's `last_used_at`,
    written once a minute, is not written during the counted one)."""
    _get(client, url)
    with CaptureQueriesContext(connection) as captured:
        _get(client, url)
    return len(captured)


def _plan(client: Client, url: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the measured page's query of the posts."""
    with CaptureQueriesContext(connection) as captured:
        _get(client, url)
    table = Post._meta.db_table
    page_sql = next(
        (
            query["sql"]
            for query in captured.captured_queries
            if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]
        ),
        None,
    )
    if page_sql is None:
        return ""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {page_sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return f"The page's query of the posts:\n\n```sql\n{page_sql}\n```\n\n```\n{plan}\n```"
