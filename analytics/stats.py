"""Stats people can read: what posts, accounts, campaigns, tags, authors and workspaces did.

Selectors only: they read jobs and snapshots and return plain data for the admin,
the API and CSV exports alike.

Definitions, written once:

* A post on an account is a published `PublishJob`. It belongs to a period when it
  was published (`published_at`) inside it; a failed or missed one when it was due
  (`due_at`) inside it.
* A period is whole local days, first to last inclusive, in a zone: midnight to
  midnight on that zone's wall clock, so a week across a DST change is 167 or 169
  hours long. The previous period is the same number of days just before.
* A post's numbers are those of its latest snapshot; its numbers "at 24 h" and "at
  7 d" are those of the latest snapshot planned no later than that after publishing.
* Engagements are likes + replies + reposts + quotes + bookmarks + link clicks, of
  those the network gives (a missing number counts as none).
* Engagement rate is engagements ÷ impressions over the posts whose network gives
  impressions; where none does, it is engagements per post.
* Lateness is `published_at - due_at`; on time is at most `ON_TIME_WITHIN` late.
  Percentiles are by nearest rank (the smallest value with at least p % at or below).
* Simulated numbers (a network whose adapter says `metrics_simulated`: the sandbox)
  are never added to real ones: a group's stats take either real networks' posts or
  simulated ones, and say which.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import reduce

from django.db.models import Q, QuerySet
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce

from accounts.models import FollowerCount, SocialAccount, Workspace
from accounts.timezones import utc_to_wall, wall_to_utc, zone_get
from analytics.models import LatestMetrics, MetricsSnapshot
from posts.models import Campaign, PostPart, Tag
from publishing.models import JobStatus, PublishJob
from publishing.networks import adapters

ON_TIME_WITHIN = timedelta(minutes=1)
COUNTED_FIELDS = (
    "impressions",
    "likes",
    "replies",
    "reposts",
    "quotes",
    "bookmarks",
    "link_clicks",
)
ENGAGEMENT_FIELDS = ("likes", "replies", "reposts", "quotes", "bookmarks", "link_clicks")
SNAPSHOT_FIELDS = (*COUNTED_FIELDS, "profile_clicks")


def simulated_networks() -> list[str]:
    """Networks whose numbers are simulated (kept apart from real networks' numbers)."""
    return [adapter.network for adapter in adapters() if adapter.metrics_simulated]


def network_is_simulated(network: str) -> bool:
    return network in simulated_networks()


def jobs_of_kind(*, jobs: QuerySet[PublishJob], simulated: bool) -> QuerySet[PublishJob]:
    """Only the jobs of networks with simulated numbers, or only those of real networks."""
    on_simulated = Q(account__network__in=simulated_networks())
    return jobs.filter(on_simulated if simulated else ~on_simulated)


@dataclass(frozen=True)
class Period:
    """Whole local days `first`..`last` (inclusive) on the wall clock of `timezone_name`."""

    first: date
    last: date
    timezone_name: str

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"The period ends ({self.last}) before it starts ({self.first}).")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant of the period (UTC)."""
        return wall_to_utc(datetime.combine(self.first, time()), zone_get(self.timezone_name))

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC)."""
        next_day = datetime.combine(self.last + timedelta(days=1), time())
        return wall_to_utc(next_day, zone_get(self.timezone_name))

    def previous(self) -> Period:
        """The same number of days just before."""
        return Period(
            first=self.first - timedelta(days=self.days),
            last=self.first - timedelta(days=1),
            timezone_name=self.timezone_name,
        )

    def label(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()} ({self.timezone_name})"


def period_last_days(*, days: int, today: date, timezone_name: str) -> Period:
    """The `days` local days ending with `today`."""
    return Period(first=today - timedelta(days=days - 1), last=today, timezone_name=timezone_name)


def period_default(*, now: datetime, timezone_name: str, days: int = 28) -> Period:
    """The last `days` days up to today on the zone's clock."""
    today = utc_to_wall(now, zone_get(timezone_name)).date()
    return period_last_days(days=days, today=today, timezone_name=timezone_name)


@dataclass(frozen=True)
class Numbers:
    """One post's numbers, or a sum over posts; None where no post had the number."""

    impressions: int | None = None
    likes: int | None = None
    replies: int | None = None
    reposts: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    link_clicks: int | None = None
    profile_clicks: int | None = None

    @property
    def engagements(self) -> int:
        return sum(getattr(self, name) or 0 for name in ENGAGEMENT_FIELDS)


def engagements_of_latest() -> CombinedExpression:
    """A job's engagements (as `Numbers.engagements`) in SQL, from its latest snapshot:
    for sums over many posts done by the database."""
    return reduce(
        operator.add, (Coalesce(f"latest_metrics__{name}", 0) for name in ENGAGEMENT_FIELDS)
    )


def _numbers_sum(items: Iterable[Numbers]) -> Numbers:
    sums: dict[str, int | None] = dict.fromkeys(SNAPSHOT_FIELDS)
    for numbers in items:
        for name in SNAPSHOT_FIELDS:
            value = getattr(numbers, name)
            if value is not None:
                sums[name] = (sums[name] or 0) + value
    return Numbers(**sums)


@dataclass(frozen=True)
class Totals:
    posts: int
    numbers: Numbers
    engagements: int
    engagement_rate: float | None
    # "impressions" (engagements ÷ impressions) or "post" (engagements per post).
    engagement_rate_basis: str


def _totals(per_post: Sequence[Numbers]) -> Totals:
    engagements = sum(numbers.engagements for numbers in per_post)
    measured = [numbers for numbers in per_post if numbers.impressions is not None]
    impressions = sum(numbers.impressions for numbers in measured)
    if measured:
        rate = (
            sum(numbers.engagements for numbers in measured) / impressions if impressions else None
        )
        basis = "impressions"
    else:
        rate = engagements / len(per_post) if per_post else None
        basis = "post"
    return Totals(
        posts=len(per_post),
        numbers=_numbers_sum(per_post),
        engagements=engagements,
        engagement_rate=rate,
        engagement_rate_basis=basis,
    )


def published_in(jobs: QuerySet[PublishJob], *, period: Period) -> QuerySet[PublishJob]:
    """The jobs of `jobs` that were published within `period`."""
    return jobs.filter(
        status=JobStatus.PUBLISHED, published_at__gte=period.start, published_at__lt=period.end
    )


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of `values` (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Stats:
    """What a group of posts did over a period."""

    period: Period
    simulated: bool
    published: int
    failed: int
    missed: int
    on_time_rate: float | None
    lateness_p50_seconds: float | None
    lateness_p95_seconds: float | None
    totals: Totals


def latest_numbers(*, job_ids: Iterable[int]) -> dict[int, Numbers]:
    """Each job's numbers from its latest snapshot (absent for a job without one).

    Read from the roll-up of latest snapshots (`LatestMetrics`, one row per job, kept by
    the database as snapshots come and go), by primary key.
    """
    rows = LatestMetrics.objects.filter(job_id__in=list(job_ids)).values("job_id", *SNAPSHOT_FIELDS)
    return {row.pop("job_id"): Numbers(**row) for row in rows}


def jobs_stats(*, jobs: QuerySet[PublishJob], period: Period, simulated: bool) -> Stats:
    """Stats of `jobs` over `period`: real networks' jobs only, or simulated ones only."""
    jobs = jobs_of_kind(jobs=jobs, simulated=simulated)
    published = list(
        published_in(jobs, period=period).values_list(
            "due_at", "published_at", *(f"latest_metrics__{name}" for name in SNAPSHOT_FIELDS)
        )
    )
    not_out = jobs.filter(due_at__gte=period.start, due_at__lt=period.end)
    lateness = [(published_at - due_at).total_seconds() for due_at, published_at, *_ in published]
    on_time = sum(1 for seconds in lateness if seconds <= ON_TIME_WITHIN.total_seconds())
    return Stats(
        period=period,
        simulated=simulated,
        published=len(published),
        failed=not_out.filter(status=JobStatus.FAILED).count(),
        missed=not_out.filter(status=JobStatus.MISSED).count(),
        on_time_rate=on_time / len(published) if published else None,
        lateness_p50_seconds=percentile(lateness, 50),
        lateness_p95_seconds=percentile(lateness, 95),
        # A job without snapshots reads all None, as from no latest snapshot.
        totals=_totals(
            [
                Numbers(**dict(zip(SNAPSHOT_FIELDS, latest, strict=True)))
                for _, _, *latest in published
            ]
        ),
    )


# --- Stats of each kind of group ----------------------------------------------------------


def account_stats(*, account: SocialAccount, period: Period) -> Stats:
    return jobs_stats(
        jobs=PublishJob.objects.filter(account=account),
        period=period,
        simulated=network_is_simulated(account.network),
    )


def workspace_stats(*, workspace: Workspace, period: Period, simulated: bool = False) -> Stats:
    return jobs_stats(
        jobs=PublishJob.objects.filter(post__workspace=workspace),
        period=period,
        simulated=simulated,
    )


def campaign_stats(*, campaign: Campaign, period: Period, simulated: bool = False) -> Stats:
    return jobs_stats(
        jobs=PublishJob.objects.filter(post__campaign=campaign), period=period, simulated=simulated
    )


def tag_stats(*, tag: Tag, period: Period, simulated: bool = False) -> Stats:
    return jobs_stats(
        jobs=PublishJob.objects.filter(post__tags=tag), period=period, simulated=simulated
    )


def author_stats(*, workspace: Workspace, author, period: Period, simulated: bool = False) -> Stats:
    """Stats of the posts `author` (the staff member who composed them) wrote in `workspace`."""
    return jobs_stats(
        jobs=PublishJob.objects.filter(post__workspace=workspace, post__author=author),
        period=period,
        simulated=simulated,
    )


# --- Comparisons ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    name: str
    current: float | None
    previous: float | None

    @property
    def difference(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """current ÷ previous − 1 (0.25 is 25 % up); None when there was nothing before."""
        if self.current is None or not self.previous:
            return None
        return self.current / self.previous - 1


def stats_compare(*, current: Stats, previous: Stats) -> list[Change]:
    """This period against the previous one, figure by figure."""

    def figures(stats: Stats) -> dict[str, float | None]:
        numbers = stats.totals.numbers
        return {
            "published": stats.published,
            "failed": stats.failed,
            "missed": stats.missed,
            "on_time_rate": stats.on_time_rate,
            "lateness_p50_seconds": stats.lateness_p50_seconds,
            "lateness_p95_seconds": stats.lateness_p95_seconds,
            "impressions": numbers.impressions,
            "likes": numbers.likes,
            "replies": numbers.replies,
            "reposts": numbers.reposts,
            "link_clicks": numbers.link_clicks,
            "engagements": stats.totals.engagements,
            "engagement_rate": stats.totals.engagement_rate,
        }

    now, before = figures(current), figures(previous)
    return [Change(name=name, current=now[name], previous=before[name]) for name in now]


# --- One post -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    due_at: datetime
    collected_at: datetime
    numbers: Numbers


@dataclass(frozen=True)
class PostSeries:
    """A post on one account: every snapshot in order, and its numbers at 24 h and 7 d."""

    job: PublishJob
    simulated: bool
    points: list[Point]
    at_24h: Numbers | None
    at_7d: Numbers | None
    latest: Numbers | None


def post_series(*, job: PublishJob) -> PostSeries:
    points = [
        Point(
            due_at=row.pop("due_at"), collected_at=row.pop("collected_at"), numbers=Numbers(**row)
        )
        for row in MetricsSnapshot.objects.filter(job=job)
        .order_by("due_at")
        .values("due_at", "collected_at", *SNAPSHOT_FIELDS)
    ]

    def at(after: timedelta) -> Numbers | None:
        if job.published_at is None:
            return None
        reached = [point for point in points if point.due_at <= job.published_at + after]
        return reached[-1].numbers if reached else None

    return PostSeries(
        job=job,
        simulated=network_is_simulated(job.account.network),
        points=points,
        at_24h=at(timedelta(hours=24)),
        at_7d=at(timedelta(days=7)),
        latest=points[-1].numbers if points else None,
    )


@dataclass(frozen=True)
class AgainstMedian:
    """A post's engagements against the median of its account's posts of the period."""

    engagements: int
    account_median: float | None
    posts_compared: int

    @property
    def ratio(self) -> float | None:
        if self.account_median is None or not self.account_median:
            return None
        return self.engagements / self.account_median


def post_against_account_median(*, job: PublishJob, period: Period) -> AgainstMedian:
    """The median is over the account's posts published in `period`, the post included."""
    peers = list(
        published_in(
            PublishJob.objects.filter(account_id=job.account_id), period=period
        ).values_list("pk", flat=True)
    )
    numbers = latest_numbers(job_ids=[*peers, job.pk])
    engagements = [numbers.get(pk, Numbers()).engagements for pk in peers]
    return AgainstMedian(
        engagements=numbers.get(job.pk, Numbers()).engagements,
        account_median=statistics.median(engagements) if engagements else None,
        posts_compared=len(engagements),
    )


# --- Over time ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    """One local week (Monday first) of an account: its posts' totals, by publishing time."""

    monday: date
    totals: Totals


def account_weekly(*, account: SocialAccount, period: Period) -> list[Week]:
    """Weekly totals of the account's posts published in `period`, one row per week touched."""
    zone = zone_get(period.timezone_name)
    published = list(
        published_in(PublishJob.objects.filter(account=account), period=period).values_list(
            "pk", "published_at"
        )
    )
    numbers = latest_numbers(job_ids=[pk for pk, _ in published])
    by_week: dict[date, list[Numbers]] = {}
    monday = period.first - timedelta(days=period.first.weekday())
    while monday <= period.last:
        by_week[monday] = []
        monday += timedelta(weeks=1)
    for pk, published_at in published:
        day = utc_to_wall(published_at, zone).date()
        by_week[day - timedelta(days=day.weekday())].append(numbers.get(pk, Numbers()))
    return [Week(monday=monday, totals=_totals(items)) for monday, items in by_week.items()]


@dataclass(frozen=True)
class FollowerReading:
    at: datetime
    followers: int


def account_followers(*, account: SocialAccount, period: Period) -> list[FollowerReading]:
    """The account's follower count over `period`, one reading per local day (the last)."""
    zone = zone_get(period.timezone_name)
    per_day: dict[date, FollowerReading] = {}
    for recorded_at, followers in (
        FollowerCount.objects.filter(
            account=account, recorded_at__gte=period.start, recorded_at__lt=period.end
        )
        .order_by("recorded_at")
        .values_list("recorded_at", "followers")
    ):
        per_day[utc_to_wall(recorded_at, zone).date()] = FollowerReading(
            at=recorded_at, followers=followers
        )
    return list(per_day.values())


@dataclass(frozen=True)
class PostRow:
    """A post of a group with its latest numbers, for side-by-side views."""

    job_id: int
    post_id: int
    account: str
    published_at: datetime
    text: str
    numbers: Numbers = field(default_factory=Numbers)


def campaign_posts(*, campaign: Campaign, period: Period, simulated: bool = False) -> list[PostRow]:
    """The campaign's posts published in `period`, each with its latest numbers."""
    jobs = list(
        jobs_of_kind(
            jobs=published_in(PublishJob.objects.filter(post__campaign=campaign), period=period),
            simulated=simulated,
        )
        .select_related("account")
        .order_by("published_at", "pk")
    )
    numbers = latest_numbers(job_ids=[job.pk for job in jobs])
    texts = dict(
        PostPart.objects.filter(post_id__in={job.post_id for job in jobs}, position=0).values_list(
            "post_id", "text"
        )
    )
    return [
        PostRow(
            job_id=job.pk,
            post_id=job.post_id,
            account=f"@{job.account.handle}",
            published_at=job.published_at,
            text=texts.get(job.post_id, ""),
            numbers=numbers.get(job.pk, Numbers()),
        )
        for job in jobs
    ]
