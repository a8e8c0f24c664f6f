"""Best times to post, per account, from its own history.

Each published post of the last `LOOKBACK_DAYS` falls in one cell: the weekday and
hour it went out on the wall clock of the account's zone (its workspace's), so a
post at 09:30 Paris time is in Monday 09:00 in winter and in summer alike. A cell's
score is the mean engagements per post (analytics/stats.py's definition) of the
posts in it, with their count beside it.

Confidence rule: a cell with fewer than `MIN_POSTS_FOR_ADVICE` posts gives no advice
(three good posts are luck, not a pattern). The best confident cells, highest mean
first, are the suggestions. When no cell is confident the history is thin: we say so
and offer the account's queue slots instead, never an invented time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from accounts.models import SocialAccount
from accounts.timezones import zone_get
from analytics.stats import engagements_of_latest, network_is_simulated
from publishing.models import JobStatus, PublishJob
from publishing.slots import slots_for_account

MIN_POSTS_FOR_ADVICE = 5
LOOKBACK_DAYS = 90
SUGGESTIONS = 3
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Cell:
    weekday: int  # 0 is Monday
    hour: int
    posts: int
    engagements: int

    @property
    def mean(self) -> float | None:
        return self.engagements / self.posts if self.posts else None

    @property
    def confident(self) -> bool:
        return self.posts >= MIN_POSTS_FOR_ADVICE


@dataclass(frozen=True)
class Suggestion:
    weekday: int
    local_time: time
    # "history" (a confident cell) or "queue slot" (the fall-back).
    source: str
    posts: int = 0
    mean_engagements: float | None = None

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]

    def label(self) -> str:
        text = f"{self.weekday_name} {self.local_time:%H:%M}"
        if self.source == "history":
            return f"{text} (mean {self.mean_engagements:.1f} engagements over {self.posts} posts)"
        return f"{text} (queue slot)"


@dataclass(frozen=True)
class BestTimes:
    account: SocialAccount
    timezone_name: str
    since: datetime
    simulated: bool
    posts: int
    cells: list[Cell]  # 7 × 24, Monday 00:00 first
    suggestions: list[Suggestion]
    thin: bool

    def cell(self, weekday: int, hour: int) -> Cell:
        return self.cells[weekday * 24 + hour]

    def message(self) -> str:
        if not self.thin:
            return (
                f"Best times from {self.posts} posts of the last {LOOKBACK_DAYS} days, "
                f"in {self.timezone_name}."
            )
        thin = (
            f"Not enough history for advice: no weekday and hour has {MIN_POSTS_FOR_ADVICE} "
            f"posts yet ({self.posts} posts in the last {LOOKBACK_DAYS} days)."
        )
        if self.suggestions:
            return f"{thin} Your queue slots meanwhile."
        return f"{thin} The account has no queue slots either."


def best_times(*, account: SocialAccount, now: datetime) -> BestTimes:
    timezone_name = account.workspace.default_timezone
    zone = zone_get(timezone_name)
    since = now - timedelta(days=LOOKBACK_DAYS)
    # Counted and summed by the database, cell by cell, on the zone's wall clock.
    per_cell = (
        PublishJob.objects.filter(
            account=account,
            status=JobStatus.PUBLISHED,
            published_at__gte=since,
            published_at__lte=now,
        )
        .annotate(
            weekday=ExtractIsoWeekDay("published_at", tzinfo=zone),
            hour=ExtractHour("published_at", tzinfo=zone),
        )
        .values("weekday", "hour")
        .annotate(posts=Count("pk"), engagements=Sum(engagements_of_latest()))
        .order_by()
    )
    posts = [[0] * 24 for _ in range(7)]
    engagements = [[0] * 24 for _ in range(7)]
    for row in per_cell:
        posts[row["weekday"] - 1][row["hour"]] = row["posts"]
        engagements[row["weekday"] - 1][row["hour"]] = row["engagements"]
    cells = [
        Cell(weekday=day, hour=hour, posts=posts[day][hour], engagements=engagements[day][hour])
        for day in range(7)
        for hour in range(24)
    ]
    confident = sorted(
        (cell for cell in cells if cell.confident),
        key=lambda cell: (-cell.mean, cell.weekday, cell.hour),
    )
    suggestions = [
        Suggestion(
            weekday=cell.weekday,
            local_time=time(cell.hour),
            source="history",
            posts=cell.posts,
            mean_engagements=cell.mean,
        )
        for cell in confident[:SUGGESTIONS]
    ]
    thin = not suggestions
    if thin:
        suggestions = [
            Suggestion(
                weekday=WEEKDAYS.index(slot.weekday),
                local_time=slot.local_time,
                source="queue slot",
            )
            for slot in slots_for_account(account=account)
        ]
    return BestTimes(
        account=account,
        timezone_name=timezone_name,
        since=since,
        simulated=network_is_simulated(account.network),
        posts=sum(map(sum, posts)),
        cells=cells,
        suggestions=suggestions,
        thin=thin,
    )


def best_times_hint(*, accounts: list[SocialAccount], now: datetime) -> list[str]:
    """One short line per account for the composer and "add to queue": its suggested
    times, or that its history is thin and what its queue slots are."""
    lines = []
    for account in accounts:
        times = best_times(account=account, now=now)
        when = ", ".join(f"{s.weekday_name[:3]} {s.local_time:%H:%M}" for s in times.suggestions)
        zone = times.timezone_name
        if not times.thin:
            lines.append(f"@{account.handle}: best {when} {zone} (from {times.posts} posts)")
        elif when:
            lines.append(f"@{account.handle}: too little history; queue slots {when} {zone}")
        else:
            lines.append(f"@{account.handle}: too little history and no queue slots yet")
    return lines
