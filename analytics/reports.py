"""Stats views as tables: one shape for the admin's pages (a chart above each table),
the CSV export and the API's JSON, so the three faces always show the same numbers.

A report is plain data made from the selectors (analytics/stats.py,
analytics/best_times.py): a title, its period and zone, and tables of rows. Its CSV
starts with the zone and period, as does its file name.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError

from accounts.models import SocialAccount, Workspace
from accounts.timezones import utc_to_wall, zone_canonical_name, zone_get
from analytics.best_times import MIN_POSTS_FOR_ADVICE, WEEKDAYS, Cell, best_times
from analytics.stats import (
    Numbers,
    Period,
    Stats,
    account_followers,
    account_stats,
    account_weekly,
    author_stats,
    campaign_posts,
    campaign_stats,
    period_default,
    post_against_account_median,
    post_series,
    stats_compare,
    tag_stats,
    workspace_stats,
)
from posts.models import Campaign, Tag
from publishing.models import PublishJob

NUMBER_COLUMNS = ("impressions", "likes", "replies", "reposts", "link_clicks")


@dataclass(frozen=True)
class Table:
    key: str
    caption: str
    columns: list[str]
    rows: list[list]
    # How the admin draws it: "line", "bar", "heatmap", or "" for a table alone.
    chart: str = ""
    # A heatmap's cells as numbers ({"weekday", "hour", "posts", "mean"}), for drawing.
    cells: list[dict] = field(default_factory=list)

    def shown_rows(self) -> list[tuple[list, list[str]]]:
        """Each row as it is, and as a person reads it (— where there is no number)."""
        return [(row, [_shown(value) for value in row]) for row in self.rows]

    def chart_data(self) -> dict:
        """What charts.js draws: the table's first column as labels and each numeric
        column as a series, or a heatmap's cells."""
        if self.chart == "heatmap":
            return {
                "type": "heatmap",
                "cells": self.cells,
                "weekdays": list(WEEKDAYS),
                "min_posts": MIN_POSTS_FOR_ADVICE,
            }
        series = [
            {"label": name, "data": [row[index] for row in self.rows]}
            for index, name in enumerate(self.columns)
            if index > 0 and all(isinstance(row[index], int | float | None) for row in self.rows)
        ]
        labels = [str(_cell(row[0])) for row in self.rows]
        return {"type": self.chart, "labels": labels, "series": series}


@dataclass(frozen=True)
class HeatCell:
    """A weekday × hour cell as its table shows it: the mean and the posts behind it, and
    "too few posts" below the confidence rule (drawn hatched in grey beside it)."""

    mean: float | None
    posts: int
    confident: bool

    @classmethod
    def of(cls, cell: Cell) -> HeatCell:
        return cls(mean=cell.mean, posts=cell.posts, confident=cell.confident)

    @property
    def thin(self) -> bool:
        return self.posts > 0 and not self.confident

    @property
    def numbers(self) -> str:
        return f"{self.mean:.1f} ({self.posts})" if self.posts else ""

    @property
    def warning(self) -> str:
        return "too few posts" if self.thin else ""

    def __str__(self) -> str:
        return f"{self.numbers} {self.warning}".strip()


@dataclass(frozen=True)
class Report:
    title: str
    period: Period
    simulated: bool
    tables: list[Table]
    notes: list[str] = field(default_factory=list)

    def filename(self, slug: str) -> str:
        zone = self.period.timezone_name.replace("/", "-")
        return f"kairos-{slug}-{self.period.first}-{self.period.last}-{zone}.csv"

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["# Kairos analytics", self.title])
        writer.writerow(["# zone", self.period.timezone_name])
        writer.writerow(["# period", self.period.first.isoformat(), self.period.last.isoformat()])
        if self.simulated:
            writer.writerow(["# simulated", "sandbox numbers, made up for demos"])
        for table in self.tables:
            writer.writerow([])
            writer.writerow([f"# {table.caption}"])
            writer.writerow(table.columns)
            writer.writerows([[_cell(value) for value in row] for row in table.rows])
        return out.getvalue()

    def as_json(self) -> dict:
        return {
            "title": self.title,
            "timezone": self.period.timezone_name,
            "period": {"first": self.period.first, "last": self.period.last},
            "simulated": self.simulated,
            "notes": self.notes,
            "tables": [
                {
                    "key": table.key,
                    "caption": table.caption,
                    "columns": table.columns,
                    "rows": [[_cell(value) for value in row] for row in table.rows],
                }
                for table in self.tables
            ],
        }


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return str(value)


def _cell(value):
    if isinstance(value, HeatCell):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def period_from_query(query, *, default_zone: str, now: datetime, days: int = 28) -> Period:
    """The period a request asks for (`from`, `to` as YYYY-MM-DD, `tz`), by default the
    last `days` days in `default_zone`. Raises ValidationError with what to fix."""
    zone = zone_canonical_name(query.get("tz") or default_zone)
    default = period_default(now=now, timezone_name=zone, days=days)
    try:
        first = date.fromisoformat(query["from"]) if query.get("from") else default.first
        last = date.fromisoformat(query["to"]) if query.get("to") else default.last
        return Period(first=first, last=last, timezone_name=zone)
    except ValueError as error:
        raise ValidationError(
            f"{error}. Give from and to as dates (YYYY-MM-DD), from no later than to."
        ) from error


def _stats_table(current: Stats, previous: Stats) -> Table:
    rows = [
        [change.name, change.current, change.previous, change.ratio]
        for change in stats_compare(current=current, previous=previous)
    ]
    return Table(
        key="stats",
        caption=f"Totals, {current.period.label()}, against {previous.period.label()}",
        columns=["figure", "this period", "previous period", "change"],
        rows=rows,
    )


def _simulated_notes(simulated: bool) -> list[str]:
    if not simulated:
        return []
    return ["Simulated numbers: the sandbox makes them up for demos; no real network's."]


def _numbers_row(numbers: Numbers | None) -> list:
    numbers = numbers or Numbers()
    return [getattr(numbers, name) for name in NUMBER_COLUMNS] + [numbers.engagements]


def account_report(*, account: SocialAccount, period: Period, now: datetime) -> Report:
    current = account_stats(account=account, period=period)
    weekly = account_weekly(account=account, period=period)
    followers = account_followers(account=account, period=period)
    zone = zone_get(period.timezone_name)
    times = best_times(account=account, now=now)
    heatmap_rows = [
        [WEEKDAYS[day], *(HeatCell.of(cell) for cell in times.cells[day * 24 : day * 24 + 24])]
        for day in range(7)
    ]
    return Report(
        title=f"@{account.handle} ({account.get_network_display()})",
        period=period,
        simulated=current.simulated,
        notes=[*_simulated_notes(current.simulated), times.message()],
        tables=[
            _stats_table(current, account_stats(account=account, period=period.previous())),
            Table(
                key="weekly",
                caption="Weekly totals of the posts published each week (Monday first)",
                columns=["week of", "posts", *NUMBER_COLUMNS, "engagements"],
                rows=[
                    [week.monday, week.totals.posts, *_numbers_row(week.totals.numbers)]
                    for week in weekly
                ],
                chart="bar",
            ),
            Table(
                key="followers",
                caption="Followers (the last reading of each day)",
                columns=["day", "followers"],
                rows=[
                    [utc_to_wall(reading.at, zone).date(), reading.followers]
                    for reading in followers
                ],
                chart="line",
            ),
            Table(
                key="heatmap",
                caption=(
                    f"Mean engagements per post (posts) by weekday and hour in "
                    f"{times.timezone_name}, last 90 days; a cell needs "
                    f"{MIN_POSTS_FOR_ADVICE} posts to count"
                ),
                columns=["weekday", *[f"{hour:02d}:00" for hour in range(24)]],
                rows=heatmap_rows,
                chart="heatmap",
                cells=[
                    {
                        "weekday": c.weekday,
                        "hour": c.hour,
                        "posts": c.posts,
                        "mean": c.mean,
                        "confident": c.confident,
                    }
                    for c in times.cells
                    if c.posts
                ],
            ),
            Table(
                key="best_times",
                caption="Suggested times",
                columns=["weekday", "time", "from", "posts", "mean engagements"],
                rows=[
                    [s.weekday_name, s.local_time, s.source, s.posts, s.mean_engagements]
                    for s in times.suggestions
                ],
            ),
        ],
    )


def post_report(*, job: PublishJob, period: Period) -> Report:
    series = post_series(job=job)
    zone = zone_get(period.timezone_name)
    against = post_against_account_median(job=job, period=period)
    return Report(
        title=f"Post {job.post_id} on @{job.account.handle}",
        period=period,
        simulated=series.simulated,
        notes=_simulated_notes(series.simulated),
        tables=[
            Table(
                key="series",
                caption="Every snapshot, as planned after publishing",
                columns=["snapshot", *NUMBER_COLUMNS, "engagements"],
                rows=[
                    [
                        utc_to_wall(point.due_at, zone).replace(tzinfo=None),
                        *_numbers_row(point.numbers),
                    ]
                    for point in series.points
                ],
                chart="line",
            ),
            Table(
                key="totals",
                caption="At 24 hours, at 7 days, and now",
                columns=["when", *NUMBER_COLUMNS, "engagements"],
                rows=[
                    ["24 h", *_numbers_row(series.at_24h)],
                    ["7 d", *_numbers_row(series.at_7d)],
                    ["latest", *_numbers_row(series.latest)],
                ],
            ),
            Table(
                key="against_median",
                caption="Against the account's median post of the period",
                columns=["engagements", "account median", "posts compared", "ratio"],
                rows=[
                    [
                        against.engagements,
                        against.account_median,
                        against.posts_compared,
                        against.ratio,
                    ]
                ],
            ),
        ],
    )


def campaign_report(*, campaign: Campaign, period: Period, simulated: bool) -> Report:
    current = campaign_stats(campaign=campaign, period=period, simulated=simulated)
    previous = campaign_stats(campaign=campaign, period=period.previous(), simulated=simulated)
    zone = zone_get(period.timezone_name)
    return Report(
        title=f"Campaign {campaign.name}",
        period=period,
        simulated=simulated,
        notes=_simulated_notes(simulated),
        tables=[
            _stats_table(current, previous),
            Table(
                key="posts",
                caption="The campaign's posts side by side (latest numbers)",
                columns=["post", "account", "published", "text", *NUMBER_COLUMNS, "engagements"],
                rows=[
                    [
                        f"#{row.post_id}",
                        row.account,
                        utc_to_wall(row.published_at, zone).replace(tzinfo=None),
                        row.text[:80],
                        *_numbers_row(row.numbers),
                    ]
                    for row in campaign_posts(campaign=campaign, period=period, simulated=simulated)
                ],
                chart="bar",
            ),
        ],
    )


def group_report(*, title: str, current: Stats, previous: Stats) -> Report:
    """A tag's, an author's or a workspace's totals against the previous period."""
    return Report(
        title=title,
        period=current.period,
        simulated=current.simulated,
        notes=_simulated_notes(current.simulated),
        tables=[_stats_table(current, previous)],
    )


def tag_report(*, tag: Tag, period: Period, simulated: bool) -> Report:
    return group_report(
        title=f"Tag {tag.name}",
        current=tag_stats(tag=tag, period=period, simulated=simulated),
        previous=tag_stats(tag=tag, period=period.previous(), simulated=simulated),
    )


def workspace_report(
    *, workspace: Workspace, period: Period, simulated: bool, author=None
) -> Report:
    """The workspace's totals, or, given `author`, those of the posts that person composed."""
    if author is None:
        return group_report(
            title=f"Workspace {workspace.name}",
            current=workspace_stats(workspace=workspace, period=period, simulated=simulated),
            previous=workspace_stats(
                workspace=workspace, period=period.previous(), simulated=simulated
            ),
        )
    return group_report(
        title=f"Posts by {author} in {workspace.name}",
        current=author_stats(
            workspace=workspace, author=author, period=period, simulated=simulated
        ),
        previous=author_stats(
            workspace=workspace, author=author, period=period.previous(), simulated=simulated
        ),
    )
