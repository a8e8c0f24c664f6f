"""P7: analytics on a big workspace: an account's stats and its best times.

`posts` published posts, spread over the bench's accounts and the last year, each with
`snapshots / posts` snapshots on the metrics plan, are COPYed in. Then the selectors
the admin, the API and the CSV call are timed as a person would wait for them: an
account's stats over the last 28 days (analytics/stats.py) and its best times from
the last 90 (analytics/best_times.py), the account holding a tenth of the posts.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from statistics import median
from typing import Any

from django.db import transaction
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
    """The posts, their published jobs and snapshots; returns the seconds it took."""
    started = time.monotonic()
    now = timezone.now()
    chance = random.Random(7)
    per_job = max(1, min(len(METRICS_PLAN), snapshots // posts))
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
        rows_copy(
            MetricsSnapshot,
            (
                _snapshot_row(job_id, at + after, chance)
                for job_id, at in jobs
                for after in METRICS_PLAN[:per_job]
                if at + after <= now
            ),
        )
    tables_analyze()
    return time.monotonic() - started


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


def run(*, accounts: list[SocialAccount], posts: int, snapshots: int) -> Figure:
    load_s = analytics_load(accounts=accounts, posts=posts, snapshots=snapshots)
    account = accounts[0]
    now = timezone.now()
    period = period_default(now=now, timezone_name=account.workspace.default_timezone)
    stored = MetricsSnapshot.objects.filter(job__account__workspace=account.workspace).count()
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
            ("load (COPY) s", number(load_s)),
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
