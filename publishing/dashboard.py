"""The admin's front page: what goes out next, what needs a person, what went out.

Read only, scoped to the workspaces the viewer may see, and in a fixed number of
queries whatever the size of the data (the ids of the visible workspaces and
accounts, then a count or aggregate per kind, one query per list), each reading an
index range of what it counts, so the page stays fast with a million posts. Each
count comes with the admin changelist query that lists exactly the rows it counted:
the faces turn it into a link.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q

from accounts.models import SocialAccount, Workspace
from accounts.permissions import WORKSPACE_VIEW, workspaces_where
from posts.models import Post, Target
from publishing.approval import JOB_WAITS_FOR_APPROVAL
from publishing.models import JobStatus, PublishJob, RateLimitWindow
from publishing.networks.base import APP_KEY, account_key
from scheduling.models import Schedule
from scheduling.selectors import schedule_occurrence_after

S = JobStatus

UPCOMING_HOURS = 24
UPCOMING_SHOWN = 50
RECENT_SHOWN = 10
# Failed and missed jobs older than this are history, no longer a call to act.
ATTENTION_DAYS = 7


@dataclass(frozen=True)
class Attention:
    """One kind of thing that needs a person: how many, and the changelist that lists them
    (an admin URL name and its query parameters)."""

    label: str
    count: int
    changelist: str
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Upcoming:
    at: datetime
    account: SocialAccount
    post: Post


@dataclass(frozen=True)
class Dashboard:
    upcoming: list[Upcoming]
    attention: list[Attention]
    published: list[PublishJob]


def dashboard_for(*, user, now: datetime) -> Dashboard:
    # Ids rather than a subquery: PostgreSQL plans each query below for the workspaces
    # and accounts it knows, reading index ranges of them instead of all their rows.
    visible = list(workspaces_where(user=user, action=WORKSPACE_VIEW).values_list("pk", flat=True))
    accounts = list(
        SocialAccount.objects.filter(workspace__in=visible).values_list("pk", flat=True)
    )
    return Dashboard(
        upcoming=upcoming_for(visible=visible, now=now),
        attention=[
            *_jobs_attention(visible=visible, accounts=accounts, now=now),
            *_accounts_attention(visible=visible, now=now),
            _paused_attention(visible=visible),
        ],
        published=list(
            # By account (a job's account is of its post's workspace): the newest read
            # backwards from publish_job_account_sent_idx.
            PublishJob.objects.filter(status=S.PUBLISHED, account__in=accounts)
            .select_related("post", "account")
            .prefetch_related("post__parts")
            .order_by("-published_at")[:RECENT_SHOWN]
        ),
    )


def upcoming_for(*, visible, now: datetime) -> list[Upcoming]:
    """What goes out in the next 24 hours, one row per occurrence and account, soonest
    first: recurring schedules expanded (an hourly one shows each hour), at most
    UPCOMING_SHOWN rows. Four queries: the schedules, their skipped or moved
    occurrences, the posts' parts and their accounts."""
    until = now + timedelta(hours=UPCOMING_HOURS)
    schedules = (
        Schedule.objects.filter(
            post__workspace__in=visible,
            post__deleted_at__isnull=True,
            status=Schedule.Status.ACTIVE,
            next_occurrence_at__gte=now,
            next_occurrence_at__lt=until,
        )
        .select_related("post")
        .prefetch_related(
            "changes",
            "post__parts",
            Prefetch("post__targets", queryset=Target.objects.select_related("account")),
        )
        .order_by("next_occurrence_at")[:UPCOMING_SHOWN]
    )
    rows = heapq.merge(
        *(_occurrence_rows(schedule=schedule, until=until) for schedule in schedules),
        key=lambda row: (row.at, row.account.handle),
    )
    return list(itertools.islice(rows, UPCOMING_SHOWN))


def _occurrence_rows(*, schedule: Schedule, until: datetime) -> Iterator[Upcoming]:
    """The schedule's occurrences before `until`, one row per account, computed only as
    far as they are read (heapq.merge takes them lazily)."""
    accounts = sorted(
        (target.account for target in schedule.post.targets.all()),
        key=lambda account: account.handle,
    )
    at = schedule.next_occurrence_at
    while at is not None and at < until:
        for account in accounts:
            yield Upcoming(at=at, account=account, post=schedule.post)
        at = schedule_occurrence_after(schedule=schedule, after=at)


def _jobs_attention(*, visible, accounts, now: datetime) -> list[Attention]:
    since = now - timedelta(days=ATTENTION_DAYS)
    recent = Q(due_at__gte=since)
    # Only the rows counted are read: the jobs of these statuses from
    # publish_job_attention_idx, the posts in review from post_workspace_approval, the
    # posts overdue from their pending jobs (publish_job_due_idx).
    jobs = PublishJob.objects.filter(
        account__in=accounts, status__in=[S.NEEDS_REVIEW, S.FAILED, S.MISSED]
    ).aggregate(
        needs_review=Count("pk", filter=Q(status=S.NEEDS_REVIEW)),
        failed=Count("pk", filter=Q(status=S.FAILED) & recent),
        missed=Count("pk", filter=Q(status=S.MISSED) & recent),
    )
    live = Post.objects.alive().filter(workspace__in=visible)
    posts = {
        "in_review": live.filter(approval=Post.Approval.IN_REVIEW).count(),
        "overdue": live.filter(
            pk__in=PublishJob.objects.filter(
                JOB_WAITS_FOR_APPROVAL, status=S.PENDING, due_at__lte=now
            ).values("post_id")
        ).count(),
    }
    jobs_list = "admin:publishing_publishjob_changelist"
    posts_list = "admin:posts_post_changelist"
    since_text = since.isoformat(sep=" ", timespec="seconds")
    return [
        Attention(
            "Jobs needing review",
            jobs["needs_review"],
            jobs_list,
            {"status__exact": S.NEEDS_REVIEW},
        ),
        Attention(
            f"Failed in the last {ATTENTION_DAYS} days",
            jobs["failed"],
            jobs_list,
            {"status__exact": S.FAILED, "due_at__gte": since_text},
        ),
        Attention(
            f"Missed in the last {ATTENTION_DAYS} days",
            jobs["missed"],
            jobs_list,
            {"status__exact": S.MISSED, "due_at__gte": since_text},
        ),
        Attention(
            "Posts waiting for approval", posts["in_review"], posts_list, {"approval": "in_review"}
        ),
        Attention(
            "Posts overdue for approval", posts["overdue"], posts_list, {"approval": "overdue"}
        ),
    ]


def _accounts_attention(*, visible, now: datetime) -> list[Attention]:
    accounts = SocialAccount.objects.filter(workspace__in=visible)
    counts = accounts.aggregate(
        reconnect=Count("pk", filter=Q(status=SocialAccount.Status.NEEDS_REAUTH)),
        paused=Count("pk", filter=Q(status=SocialAccount.Status.PAUSED)),
    )
    # A spent window of the account's own, or of Kairos's app on its network.
    spent = list(
        RateLimitWindow.objects.filter(remaining=0, resets_at__gt=now).values_list("network", "key")
    )
    app_networks = {network for network, key in spent if key == APP_KEY}
    own_keys = {key for _, key in spent if key != APP_KEY}
    limited = sorted(
        accounts.filter(Q(network__in=app_networks) | Q(pk__in=_account_ids(own_keys))).values_list(
            "pk", flat=True
        )
    )
    accounts_list = "admin:accounts_socialaccount_changelist"
    return [
        Attention(
            "Accounts needing reconnection",
            counts["reconnect"],
            accounts_list,
            {"status__exact": SocialAccount.Status.NEEDS_REAUTH},
        ),
        Attention(
            "Accounts rate-limited now",
            len(limited),
            accounts_list,
            {"id__in": ",".join(str(pk) for pk in limited) or "0"},
        ),
        Attention(
            "Accounts paused",
            counts["paused"],
            accounts_list,
            {"status__exact": SocialAccount.Status.PAUSED},
        ),
    ]


def _account_ids(keys: set[str]) -> list[int]:
    """The accounts whose rate-limit keys (`account_key`) these are."""
    prefix = account_key(0).removesuffix("0")
    return [int(key.removeprefix(prefix)) for key in keys if key.startswith(prefix)]


def _paused_attention(*, visible) -> Attention:
    paused = Workspace.objects.filter(pk__in=visible, publishing_paused_at__isnull=False).count()
    return Attention(
        "Workspaces with publishing paused",
        paused,
        "admin:accounts_workspace_changelist",
        {"publishing_paused_at__isnull": "False"},
    )
