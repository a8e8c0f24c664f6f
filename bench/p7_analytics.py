"""P7: analytics on a big workspace: an account's stats and its best times.

`posts` published posts, spread over the bench's accounts and the last year, each with
`snapshots / posts` snapshots on the metrics plan, are COPYed in. Then the selectors
the admin, the API and the CSV call are timed as a person would wait for them: an
account's stats over the last 28 days (analytics/stats.py) and its best times from
the last 90 (analytics/best_times.py), the account holding a tenth of the posts.

With `--data DIR` a later run of the same size measures the posts an earlier one
loaded (bench_p7_load remembers which account) instead of loading them again.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from statistics import median
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import SocialAccount
from analytics.best_times import best_times
from analytics.models import MetricsSnapshot
from analytics.stats import account_stats, period_default
from bench.report import Figure, Goal, number, p7_line
from bench.scene import rows_copy, tables_analyze
from posts.models import Post
from publishing.metrics_plan import METRICS_PLAN
from publishing.models import JobStatus, PublishJob

GOAL_MS = 500.0
SAMPLES = 5
HISTORY = timedelta(days=365)
# The measured account's share of the posts: a busy account of a busy workspace.
MEASURED_SHARE = 0.1


def analytics_load(*, accounts: list[SocialAccount], posts: int, snapshots: int) -> float:
    """The posts, their published jobs and exactly `snapshots` snapshots (when the plan's
    moments that have come allow as many); returns the seconds it took."""
    started = time.monotonic()
    now = timezone.now()
    chance = random.Random(7)
    workspace_id = accounts[0].workspace_id
    measured = max(1, int(posts * MEASURED_SHARE))
    with transaction.atomic():
        rows_copy(Post, ({} for _ in range(posts)), workspace_id=workspace_id, status="published")
        post_ids = list(
            Post.objects.filter(workspace_id=workspace_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )[-posts:]
        published = [now - HISTORY * chance.random() for _ in post_ids]
        rows_copy(
            PublishJob,
            (
                _job_row(
                    post_id,
                    at,
                    accounts[0].pk if n < measured else chance.choice(accounts[1:] or accounts).pk,
                )
                for n, (post_id, at) in enumerate(zip(post_ids, published, strict=True))
            ),
            status=JobStatus.PUBLISHED,
        )
        jobs = list(
            PublishJob.objects.filter(post_id__in=post_ids).values_list("pk", "published_at")
        )
        moments = _moments_taken(
            [[at + after for after in METRICS_PLAN if at + after <= now] for _, at in jobs],
            total=snapshots,
        )
        rows_copy(
            MetricsSnapshot,
            (
                _snapshot_row(job_id, due_at, chance)
                for (job_id, _), due in zip(jobs, moments, strict=True)
                for due_at in due
            ),
        )
    tables_analyze()
    return time.monotonic() - started


def _moments_taken(passed: list[list], *, total: int) -> list[list]:
    """Of each job's plan moments that have come, the first ones, `total` in all: an
    even share each, and what recent posts (whose later moments are still to come)
    cannot take, taken by older posts from the rest of their plan."""
    share = total // len(passed)
    taken = [moments[:share] for moments in passed]
    owed = total - sum(len(moments) for moments in taken)
    for moments, more in zip(passed, taken, strict=True):
        extra = moments[len(more) : len(more) + owed]
        more.extend(extra)
        owed -= len(extra)
    return taken


def _job_row(post_id: int, at, account_id: int) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "account_id": account_id,
        "occurrence_at": at,
        "due_at": at,
        "next_attempt_at": at,
        "published_at": at + timedelta(seconds=1),
        "attempt_count": 1,
    }


def _snapshot_row(job_id: int, due_at, chance: random.Random) -> dict[str, Any]:
    likes = chance.randint(0, 200)
    return {
        "job_id": job_id,
        "due_at": due_at,
        "collected_at": due_at,
        "impressions": likes * 40,
        "likes": likes,
        "replies": likes // 10,
        "reposts": likes // 5,
    }


def _timed(call) -> float:
    """The median of `SAMPLES` calls, in milliseconds (the first one warms caches)."""
    call()
    times = []
    for _ in range(SAMPLES):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return median(times)


def run(
    *, accounts: list[SocialAccount], posts: int, snapshots: int, reuse: bool = False
) -> Figure:
    earlier = _load_earlier(posts=posts, snapshots=snapshots) if reuse else None
    if earlier is None:
        load_s = analytics_load(accounts=accounts, posts=posts, snapshots=snapshots)
        account = accounts[0]
        _load_remember(posts=posts, snapshots=snapshots, account=account, load_s=load_s)
    else:
        account, load_s = earlier
    now = timezone.now()
    period = period_default(now=now, timezone_name=account.workspace.default_timezone)
    stored = _snapshots_of(account.workspace)
    stats_ms = _timed(lambda: account_stats(account=account, period=period))
    best_ms = _timed(lambda: best_times(account=account, now=now))
    return Figure(
        key="P7",
        title="Analytics: an account's stats and best times on a big workspace",
        lines=[
            p7_line(posts=posts, snapshots=stored, account_stats_ms=stats_ms, best_time_ms=best_ms)
        ],
        rows=[
            ("published posts", str(posts)),
            ("snapshots", str(stored)),
            ("posts of the measured account", str(int(posts * MEASURED_SHARE))),
            ("load (COPY) s" + (", by an earlier run (--data)" if earlier else ""), number(load_s)),
            ("account stats, last 28 days, median ms", number(stats_ms)),
            ("best times, last 90 days, median ms", number(best_ms)),
        ],
        goals=[
            Goal(
                "account stats", f"≤ {GOAL_MS:g} ms", f"{number(stats_ms)} ms", stats_ms <= GOAL_MS
            ),
            Goal("best times", f"≤ {GOAL_MS:g} ms", f"{number(best_ms)} ms", best_ms <= GOAL_MS),
        ],
    )


def _snapshots_of(workspace) -> int:
    return MetricsSnapshot.objects.filter(job__account__workspace=workspace).count()


# What a load left, for a later run to reuse (a table of the bench's own, as P6's).
_LOADS = "bench_p7_load"


def _load_remember(*, posts: int, snapshots: int, account: SocialAccount, load_s: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {_LOADS} "
            "(posts int, snapshots int, account_id bigint, load_s float)"
        )
        cursor.execute(f"DELETE FROM {_LOADS}")
        cursor.execute(
            f"INSERT INTO {_LOADS} VALUES (%s, %s, %s, %s)", [posts, snapshots, account.pk, load_s]
        )


def _load_earlier(*, posts: int, snapshots: int) -> tuple[SocialAccount, float] | None:
    """The measured account and load time of an earlier load of the same size, if its
    posts and snapshots are still in the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [_LOADS])
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute(f"SELECT posts, snapshots, account_id, load_s FROM {_LOADS}")
        row = cursor.fetchone()
    if row is None or (row[0], row[1]) != (posts, snapshots):
        return None
    account = SocialAccount.objects.filter(pk=row[2]).select_related("workspace").first()
    if account is None or _snapshots_of(account.workspace) != snapshots:
        return None
    return account, row[3]
