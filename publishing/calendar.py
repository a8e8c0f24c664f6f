"""The calendar: every occurrence in a range, planned or made, and the days a plan breaks a limit.

An entry is one post going to one account at one instant:

* made: a publish job (any status but cancelled: a cancelled job was replaced or
  stopped, and its post shows where it goes now), placed at its occurrence;
* planned: an occurrence of an active schedule that the dispatch tick has not made
  yet, from the schedule's next occurrence on (earlier ones are jobs already), as
  `schedule_occurrence_after` gives them, with the occurrences staff skipped left out
  and moved ones at their new time. One per target account.

Limits are counted over every entry of the workspaces, whatever the filters show: a
day is marked when an account's posts on it (in the viewer's zone) exceed its
`max_per_day`, when more than `max_per_hour` fall within an hour, or, on X, when they
exceed the 24-hour caps X last reported (per user on the account's token, per app
over the X accounts the viewer can see; a network that has reported nothing marks
nothing); posts closer than its `min_spacing` mark the day too. What counts is
what limits.py counts: planned, waiting, in flight and published posts.

The number of queries does not depend on how many entries there are: one for jobs,
one for schedules (and their changes), one each for targets, first parts, tags,
posting limits and rate-limit readings. A range is at most `MAX_RANGE` long, and a
schedule yields at most `MAX_PER_SCHEDULE` entries in it (a rule every minute would
otherwise fill the page); `truncated` names the posts cut short.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import SocialAccount
from accounts.timezones import utc_to_wall
from posts.models import Post, PostPart, Target
from publishing.limits import duration_words
from publishing.models import JobStatus, PublishJob, RateLimitWindow
from publishing.networks.base import APP_KEY, account_key
from scheduling.models import PostingLimit, Schedule
from scheduling.selectors import schedule_occurrence_after

MAX_RANGE = timedelta(days=42)
MAX_PER_SCHEDULE = 500
PLANNED = "scheduled"  # the status of an occurrence no job exists for yet
# What limits.py counts: planned, waiting, in flight, published.
COUNTED = frozenset(
    {PLANNED, JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.PUBLISHED}
)
STATUSES = (PLANNED, *(status for status in JobStatus.values if status != JobStatus.CANCELLED))
HOUR = timedelta(hours=1)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class CalendarFilters:
    """What to show; an empty set shows all."""

    account_ids: frozenset[int] = frozenset()
    networks: frozenset[str] = frozenset()
    tag_ids: frozenset[int] = frozenset()
    campaign_ids: frozenset[int] = frozenset()
    statuses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CalendarEntry:
    workspace_id: int
    post_id: int
    account_id: int
    account_label: str
    handle: str
    network: str
    at: datetime  # when it goes (or went) out, UTC
    occurrence_at: datetime  # the rule's instant it stands for (differs when moved)
    status: str
    job_id: int | None
    recurring: bool
    post_zone: str
    title: str
    campaign_id: int | None
    tag_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class LimitMark:
    day: date  # in the viewer's zone
    account_id: int
    label: str  # "6/5 @acme"
    reason: str  # the sentence behind the badge


@dataclass(frozen=True)
class CalendarPage:
    entries: list[CalendarEntry]
    marks: list[LimitMark]
    truncated: list[int]


def calendar_range_check(*, start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationError("The calendar's end must come after its start.")
    if end - start > MAX_RANGE:
        raise ValidationError(f"Ask for at most {MAX_RANGE.days} days at a time.")


def calendar_page(
    *,
    workspaces: QuerySet,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    filters: CalendarFilters = CalendarFilters(),
) -> CalendarPage:
    """The entries of `workspaces` from `start` (inclusive) to `end` (UTC), filtered,
    and the limit marks of the days in the range, counted on every entry."""
    calendar_range_check(start=start, end=end)
    made = _made_entries(workspaces=workspaces, start=start, end=end)
    planned, truncated = _planned_entries(workspaces=workspaces, start=start, end=end)
    entries = sorted(made + planned, key=lambda entry: (entry.at, entry.post_id, entry.account_id))
    entries = _titled(entries)
    return CalendarPage(
        entries=[entry for entry in entries if _shown(entry, filters)],
        marks=_limit_marks(entries=entries, zone=zone),
        truncated=truncated,
    )


# --- Entries -------------------------------------------------------------------------


def _made_entries(*, workspaces, start: datetime, end: datetime) -> list[CalendarEntry]:
    jobs = (
        # By the account's workspace (always the post's): the (account, occurrence)
        # index then reads only the range of the workspace's accounts.
        PublishJob.objects.filter(
            account__workspace__in=workspaces,
            post__deleted_at__isnull=True,
            occurrence_at__gte=start,
            occurrence_at__lt=end,
        )
        .exclude(status=JobStatus.CANCELLED)
        .select_related("account", "post", "post__schedule")
        .order_by()
    )
    return [
        CalendarEntry(
            workspace_id=job.post.workspace_id,
            post_id=job.post_id,
            account_id=job.account_id,
            account_label=str(job.account),
            handle=f"@{job.account.handle}",
            network=job.account.network,
            at=job.occurrence_at,
            occurrence_at=job.occurrence_at,
            status=job.status,
            job_id=job.pk,
            recurring=_recurring(job.post),
            post_zone=_zone_name(job.post),
            title="",
            campaign_id=job.post.campaign_id,
        )
        for job in jobs
    ]


def _planned_entries(
    *, workspaces, start: datetime, end: datetime
) -> tuple[list[CalendarEntry], list[int]]:
    schedules = list(
        Schedule.objects.filter(
            post__workspace__in=workspaces,
            post__deleted_at__isnull=True,
            status=Schedule.Status.ACTIVE,
            next_occurrence_at__lt=end,
        )
        .select_related("post")
        .prefetch_related("changes")
        .order_by()
    )
    targets = defaultdict(list)
    labels = {}
    for target in Target.objects.filter(post__in=[s.post_id for s in schedules]).select_related(
        "account"
    ):
        targets[target.post_id].append(target.account)
        labels.setdefault(target.account_id, str(target.account))
    entries, truncated = [], []
    for schedule in schedules:
        instants = _occurrences(schedule=schedule, start=start, end=end)
        if len(instants) > MAX_PER_SCHEDULE:
            instants = instants[:MAX_PER_SCHEDULE]
            truncated.append(schedule.post_id)
        originals = {
            change.moved_to: change.original_at
            for change in schedule.changes.all()
            if change.moved_to
        }
        entries += [
            CalendarEntry(
                workspace_id=schedule.post.workspace_id,
                post_id=schedule.post_id,
                account_id=account.pk,
                account_label=labels[account.pk],
                handle=f"@{account.handle}",
                network=account.network,
                at=instant,
                occurrence_at=originals.get(instant, instant),
                status=PLANNED,
                job_id=None,
                recurring=schedule.kind != Schedule.Kind.ONCE,
                post_zone=schedule.timezone,
                title="",
                campaign_id=schedule.post.campaign_id,
            )
            for instant in instants
            for account in targets[schedule.post_id]
        ]
    return entries, truncated


def _occurrences(*, schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """The schedule's occurrences not made yet, in [start, end), one more than the cap at
    most (so a cut is seen)."""
    instants: list[datetime] = []
    cursor = max(start, schedule.next_occurrence_at) - _TICK
    # A one-off rule that nobody moved or skipped has a single occurrence: no need to
    # ask the rule (the costliest part of a month of the feed) for the one after it.
    single = schedule.kind == Schedule.Kind.ONCE and not schedule.changes.all()
    while len(instants) <= MAX_PER_SCHEDULE:
        instant = schedule_occurrence_after(schedule=schedule, after=cursor)
        if instant is None or instant >= end:
            break
        instants.append(instant)
        if single:
            break
        cursor = instant
    return instants


def _titled(entries: list[CalendarEntry]) -> list[CalendarEntry]:
    """The entries with their post's first words and tags (one query each)."""
    post_ids = {entry.post_id for entry in entries}
    titles = dict(
        PostPart.objects.filter(post__in=post_ids, position=0).values_list("post_id", "text")
    )
    tags = defaultdict(set)
    for post_id, tag_id in Post.tags.through.objects.filter(post__in=post_ids).values_list(
        "post_id", "tag_id"
    ):
        tags[post_id].add(tag_id)
    return [
        _replace(
            entry,
            title=_excerpt(titles.get(entry.post_id, "")),
            tag_ids=frozenset(tags[entry.post_id]),
        )
        for entry in entries
    ]


def _replace(entry: CalendarEntry, **changes) -> CalendarEntry:
    return CalendarEntry(**{**entry.__dict__, **changes})


def _excerpt(text: str, length: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else f"{text[: length - 1]}…"


def _recurring(post: Post) -> bool:
    schedule = getattr(post, "schedule", None)
    return schedule is not None and schedule.kind != Schedule.Kind.ONCE


def _zone_name(post: Post) -> str:
    schedule = getattr(post, "schedule", None)
    return schedule.timezone if schedule is not None else ""


def _shown(entry: CalendarEntry, filters: CalendarFilters) -> bool:
    return (
        (not filters.account_ids or entry.account_id in filters.account_ids)
        and (not filters.networks or entry.network in filters.networks)
        and (not filters.tag_ids or bool(entry.tag_ids & filters.tag_ids))
        and (not filters.campaign_ids or entry.campaign_id in filters.campaign_ids)
        and (not filters.statuses or entry.status in filters.statuses)
    )


# --- Limits --------------------------------------------------------------------------


def _limit_marks(*, entries: list[CalendarEntry], zone: ZoneInfo) -> list[LimitMark]:
    counted = [entry for entry in entries if entry.status in COUNTED]
    by_account_day: dict[tuple[int, date], list[datetime]] = defaultdict(list)
    handles = {}
    for entry in counted:
        by_account_day[(entry.account_id, utc_to_wall(entry.at, zone).date())].append(entry.at)
        handles[entry.account_id] = entry.handle
    limits = {
        limit.account_id: limit for limit in PostingLimit.objects.filter(account__in=list(handles))
    }
    caps = _network_day_caps(account_ids=list(handles))
    marks = []
    for (account_id, day), instants in sorted(by_account_day.items(), key=lambda item: item[0]):
        marks += [
            LimitMark(day=day, account_id=account_id, label=label, reason=reason)
            for label, reason in _account_day_breaches(
                handle=handles[account_id],
                instants=sorted(instants),
                limit=limits.get(account_id),
                user_cap=caps.get(account_key(account_id)),
            )
        ]
    app_cap = caps.get(APP_KEY)
    if app_cap:
        per_day = Counter(
            utc_to_wall(entry.at, zone).date()
            for entry in counted
            if entry.network == SocialAccount.Network.X
        )
        marks += [
            LimitMark(
                day=day,
                account_id=0,
                label=f"{count}/{app_cap} X app",
                reason=f"X lets Kairos's app post {app_cap} times in 24 hours across all "
                f"accounts; {count} are planned this day.",
            )
            for day, count in sorted(per_day.items())
            if count > app_cap
        ]
    return marks


def _account_day_breaches(
    *, handle: str, instants: list[datetime], limit: PostingLimit | None, user_cap: int | None
) -> list[tuple[str, str]]:
    """(badge, sentence) for each rule one account's posts of one day break."""
    day_count = len(instants)
    breaches = []
    if limit and limit.max_per_day and day_count > limit.max_per_day:
        breaches.append(
            (
                f"{day_count}/{limit.max_per_day} {handle}",
                f"{handle} has {day_count} posts this day; its limit is "
                f"{limit.max_per_day} within any 24 hours.",
            )
        )
    busiest = _most_within(instants, HOUR)
    if limit and limit.max_per_hour and busiest > limit.max_per_hour:
        breaches.append(
            (
                f"{busiest}/{limit.max_per_hour} an hour {handle}",
                f"{handle} has {busiest} posts within an hour this day; its limit is "
                f"{limit.max_per_hour} within any hour.",
            )
        )
    spacing = limit.min_spacing if limit else None
    if spacing and spacing > timedelta(0) and _most_within(instants, spacing) > 1:
        breaches.append(
            (
                f"< {duration_words(spacing)} apart {handle}",
                f"{handle} has posts closer than {duration_words(spacing)} this day; "
                f"they must be {duration_words(spacing)} apart.",
            )
        )
    if user_cap and day_count > user_cap:
        breaches.append(
            (
                f"{day_count}/{user_cap} {handle} (X per user)",
                f"X lets {handle}'s token post {user_cap} times in 24 hours; "
                f"{day_count} are planned this day.",
            )
        )
    return breaches


def _most_within(instants: list[datetime], span: timedelta) -> int:
    """The most of the sorted `instants` that fall within any `span` (half-open)."""
    most, first = 0, 0
    for last, instant in enumerate(instants):
        while instant - instants[first] >= span:
            first += 1
        most = max(most, last - first + 1)
    return most


def _network_day_caps(*, account_ids: list[int]) -> dict[str, int]:
    """X's 24-hour post caps as X last reported them: per account key and for the app."""
    keys = [account_key(account_id) for account_id in account_ids] + [APP_KEY]
    readings = RateLimitWindow.objects.filter(
        network=SocialAccount.Network.X, window="24h", key__in=keys
    ).values_list("key", "limit")
    return dict(readings)
