"""History for the demo workspace, so its analytics pages have charts at once.

The demo (publishing/demo.py) plans posts for the coming weeks; a fresh install has no
past. This adds `weeks` of past posts on each sandbox account of the workspace, as if
they had gone out: a published job per post with its sandbox post, the snapshots
the metrics plan would have taken by now (the sandbox's simulated numbers,
publishing/networks/sandbox/metrics.py, labelled simulated), and a daily follower
count. From then on the ordinary collector keeps reading them on the plan.

Deterministic: the times, lateness and followers come from a generator seeded by the
account's handle, so every demo looks the same relative to the day it was made.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction

from accounts.models import FollowerCount, Membership, SocialAccount, Workspace
from accounts.timezones import utc_to_wall, wall_to_utc, zone_get
from analytics.models import MetricsSnapshot
from analytics.services import metrics_snapshot
from posts.models import Post
from posts.services import post_create
from publishing.metrics_plan import METRICS_PLAN
from publishing.models import JobStatus, PublishJob, SandboxPost
from publishing.networks import adapter_for
from publishing.networks.sandbox.metrics import sandbox_metrics
from publishing.stores import account_snapshot

HISTORY_WEEKS = 8
# Local hours the demo's past posts went out at, two a day per account: few enough that
# each weekday × hour has the posts best times need.
DEMO_HOURS = (9, 12, 18)
TOPICS = ("launch", "tip", "event", "behind the scenes", "customer story", "poll")


@transaction.atomic
def demo_history_seed(*, workspace: Workspace, now: datetime, weeks: int = HISTORY_WEEKS) -> int:
    """Add `weeks` of published sandbox posts with their metrics; return how many."""
    zone = zone_get(workspace.default_timezone)
    membership = (
        Membership.objects.filter(workspace=workspace, role=Membership.Role.OWNER)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    owner = membership.user if membership else None
    today = utc_to_wall(now, zone).date()
    made = 0
    for account in workspace.accounts.filter(network=SocialAccount.Network.SANDBOX):
        chance = random.Random(f"kairos-demo-history:{account.handle}")
        followers = chance.randint(800, 5000)
        for days_ago in range(weeks * 7, 0, -1):
            day = today - timedelta(days=days_ago)
            followers += chance.randint(-3, 25)
            FollowerCount.objects.create(
                account=account,
                recorded_at=wall_to_utc(datetime.combine(day, time(23, 0)), zone),
                followers=followers,
            )
            for hour in sorted(chance.sample(DEMO_HOURS, 2)):
                due = wall_to_utc(datetime.combine(day, time(hour, chance.choice((0, 30)))), zone)
                late = timedelta(seconds=chance.choice((0, 1, 2, 3, 5, 8, 40, 90)))
                _published_post(
                    account=account,
                    author=owner,
                    due=due,
                    published_at=due + late,
                    text=f"{chance.choice(TOPICS).capitalize()} by @{account.handle}, {day:%d %b}",
                    now=now,
                )
                made += 1
    return made


def _published_post(
    *,
    account: SocialAccount,
    author,
    due: datetime,
    published_at: datetime,
    text: str,
    now: datetime,
) -> None:
    post = post_create(workspace=account.workspace, author=author, texts=[text], accounts=[account])
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHED)
    upcoming = [published_at + after for after in METRICS_PLAN if published_at + after > now]
    job = PublishJob.objects.create(
        post=post,
        account=account,
        occurrence_at=due,
        due_at=due,
        next_attempt_at=due,
        status=JobStatus.PUBLISHED,
        attempt_count=1,
        published_at=published_at,
        metrics_due_at=min(upcoming, default=None),
    )
    # The key is the one a real publication would use (retention reads it).
    sandbox_post = SandboxPost.objects.create(
        account=account,
        idempotency_key=f"kairos-job-{job.pk}:0",
        text=text,
        created_at=published_at,
    )
    external_id = str(sandbox_post.pk)
    # Its link, as publishing it would have set it, so the demo's posts open.
    url = adapter_for(account.network).post_url(
        account=account_snapshot(account), external_id=external_id
    )
    PublishJob.objects.filter(pk=job.pk).update(
        external_id=external_id, part_external_ids=[external_id], external_url=url
    )
    MetricsSnapshot.objects.bulk_create(
        metrics_snapshot(
            job,
            metrics=sandbox_metrics(post_id=external_id, age=after),
            due_at=published_at + after,
            collected_at=published_at + after,
        )
        for after in METRICS_PLAN
        if published_at + after <= now
    )
