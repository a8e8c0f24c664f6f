"""Posting limits: how often one account may post, checked when scheduling and at dispatch.

An account's PostingLimit holds up to three rules. The windows roll: they are
counted back from each post, not by clock hour or calendar day.

* `min_spacing`: two posts at least this far apart; exactly that far is fine.
* `max_per_hour`: a post may go out when fewer than N posts went out in the hour
  before it, (t - 1 h, t]; a post exactly an hour after the N-th last one is fine.
* `max_per_day`: the same over the 24 hours before it.

All three have one shape, "at most N posts within any span D" (spacing is N = 1),
which is the same as "any N + 1 consecutive posts span at least D". `_Cap` checks
that shape; the rules differ only in how they are put into words.

The two sides count different posts:

* When scheduling (`posting_limit_conflicts`, `posting_limit_next_fits`): all the
  account's posts, planned or made. Active schedules of posts targeting it (their
  next occurrence), its jobs still to go out (pending: when they are next sent;
  queued and running: their occurrence) and its published jobs (when they went out).
* At dispatch (`posting_allowed_at`): only what went out (published, at
  `published_at`) or is going out (queued, running). Plans can change; outcomes can't.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from accounts.models import SocialAccount
from accounts.timezones import utc_to_wall, zone_get
from publishing.models import JobStatus, PublishJob
from scheduling.models import PostingLimit, Schedule

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
IN_FLIGHT = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class _Cap:
    """At most `most` posts within any `span`."""

    most: int
    span: timedelta
    window_name: str | None  # "hour", "24 hours"; None for the spacing rule


@dataclass(frozen=True)
class _Breach:
    cap: _Cap
    # The account's posts that, with the new one, are too many within the span.
    others: list[datetime]

    @property
    def clears_at(self) -> datetime:
        # Moving the new post later, it stays within the span of the earliest of
        # these until that one is a whole span behind it.
        return self.others[0] + self.cap.span


# --- When scheduling -----------------------------------------------------------------


def posting_limit_conflicts(
    *, account: SocialAccount, at: datetime, exclude_post_id: int | None = None
) -> list[str]:
    """What one more post by `account` at `at` would break, as sentences to act on.

    `exclude_post_id` is the post being (re)scheduled: its schedule and unfinished
    jobs are being replaced, so they do not count; what it already published does.
    """
    caps = _caps_for(account)
    if not caps:
        return []
    longest = max(cap.span for cap in caps)
    posts = _planned_posts(
        account=account, after=at - longest, before=at + longest, exclude_post_id=exclude_post_id
    )
    zone = zone_get(account.workspace.default_timezone)
    problems = []
    for cap in caps:
        breaches = _breaches(cap=cap, posts=posts, at=at)
        if breaches:
            problems.append(_conflict_sentence(breaches[0], account=account, at=at, zone=zone))
    return problems


def posting_limit_next_fits(
    *,
    account: SocialAccount,
    at: datetime,
    count: int = 3,
    exclude_post_id: int | None = None,
) -> list[datetime]:
    """The next `count` instants from `at` on at which a post by `account` breaks nothing.

    Each suggestion is treated as taken before the next is looked for, so they are
    real alternatives (09:15, 09:30, 09:45 with posts 15 minutes apart) rather than
    one gap a minute at a time. Each of them also fits on its own. After `at` itself,
    suggestions are whole minutes. A blocked candidate jumps to the end of what
    blocks it (every instant before that is blocked too), so a full day costs one
    step, not 1,440.
    """
    caps = _caps_for(account)
    longest = max((cap.span for cap in caps), default=timedelta(0))
    posts = (
        _planned_posts(
            account=account, after=at - longest, before=None, exclude_post_id=exclude_post_id
        )
        if caps
        else []
    )
    fits: list[datetime] = []
    candidate = at
    while len(fits) < count:
        breaches = [
            breach for cap in caps for breach in _breaches(cap=cap, posts=posts, at=candidate)
        ]
        if breaches:
            candidate = _minute_ceil(max(breach.clears_at for breach in breaches))
            continue
        fits.append(candidate)
        insort(posts, candidate)
        candidate = candidate.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return fits


# --- At dispatch ---------------------------------------------------------------------


def posting_allowed_at(*, account: SocialAccount, at: datetime) -> tuple[datetime, str]:
    """The earliest instant from `at` on when `account` may post once more, and why.

    The reason is empty when `at` itself is fine. Counts only what went out
    (`published_at`) and what is going out (queued, running: they count as going
    out at `at`, since their occurrence may be long past); so call it before the
    job being decided is queued, with the instant it would be sent (now).

    Cheap enough for every due job of a limited account: the limit look-up, then two
    queries on the account's jobs, each bounded by the largest cap (and the
    workspace, for the reason's local times, when a post is held). An account
    without limits costs only the look-up, and nothing when it was loaded with
    `select_related("posting_limit")` (Django then knows a missing row is missing).
    """
    caps = _caps_for(account)
    if not caps:
        return at, ""
    recent = _recent_posts(account=account, at=at, caps=caps)
    holds = [(recent[cap.most - 1] + cap.span, cap) for cap in caps if len(recent) >= cap.most]
    allowed, cap = max(holds, key=lambda hold: hold[0], default=(at, None))
    if allowed <= at:
        return at, ""
    zone = zone_get(account.workspace.default_timezone)
    return allowed, _hold_sentence(
        cap=cap, since=recent[cap.most - 1], allowed=allowed, at=at, account=account, zone=zone
    )


# --- The rules -----------------------------------------------------------------------


def _caps_for(account: SocialAccount) -> list[_Cap]:
    try:
        limit = account.posting_limit
    except PostingLimit.DoesNotExist:
        return []
    caps = []
    if limit.min_spacing and limit.min_spacing > timedelta(0):
        caps.append(_Cap(most=1, span=limit.min_spacing, window_name=None))
    # A cap of 0 would mean "never post". The admin refuses it; one set another way
    # reads as no cap rather than holding the account's posts for ever.
    if limit.max_per_hour:
        caps.append(_Cap(most=limit.max_per_hour, span=HOUR, window_name="hour"))
    if limit.max_per_day:
        caps.append(_Cap(most=limit.max_per_day, span=DAY, window_name="24 hours"))
    return caps


def _breaches(*, cap: _Cap, posts: list[datetime], at: datetime) -> list[_Breach]:
    """Each run of `cap.most` of the sorted `posts` that, with `at`, spans less than the cap.

    Runs with more posts before `at` come first.
    """
    position = bisect_left(posts, at)
    found = []
    for before in range(cap.most, -1, -1):
        start, end = position - before, position + cap.most - before
        if start < 0 or end > len(posts):
            continue
        others = posts[start:end]
        if max(others[-1], at) - min(others[0], at) < cap.span:
            found.append(_Breach(cap=cap, others=others))
    return found


# --- What counts ---------------------------------------------------------------------


def _planned_posts(
    *,
    account: SocialAccount,
    after: datetime,
    before: datetime | None,
    exclude_post_id: int | None,
) -> list[datetime]:
    """The account's posts, planned or made, strictly between `after` and `before`, sorted."""
    jobs = PublishJob.objects.filter(account=account)
    # (what, the instant it counts at, whether rescheduling its post replaces it)
    sources = [
        (
            Schedule.objects.filter(
                status=Schedule.Status.ACTIVE,
                post__targets__account=account,
                post__deleted_at__isnull=True,
            ),
            "next_occurrence_at",
            True,
        ),
        (jobs.filter(status=JobStatus.PENDING), "next_attempt_at", True),
        (jobs.filter(status__in=IN_FLIGHT), "occurrence_at", True),
        (jobs.filter(status=JobStatus.PUBLISHED), "published_at", False),
    ]
    instants = []
    for queryset, field, replaced in sources:
        queryset = queryset.filter(**{f"{field}__gt": after})
        if before is not None:
            queryset = queryset.filter(**{f"{field}__lt": before})
        if replaced and exclude_post_id is not None:
            queryset = queryset.exclude(post_id=exclude_post_id)
        instants.append(queryset.order_by().values_list(field, flat=True))
    first, *rest = instants
    return sorted(first.union(*rest, all=True))


def _recent_posts(*, account: SocialAccount, at: datetime, caps: list[_Cap]) -> list[datetime]:
    """What went out or is going out, newest first, as many as the largest cap can need."""
    most = max(cap.most for cap in caps)
    longest = max(cap.span for cap in caps)
    in_flight = PublishJob.objects.filter(account=account, status__in=IN_FLIGHT)[:most].count()
    published = (
        PublishJob.objects.filter(
            account=account, status=JobStatus.PUBLISHED, published_at__gt=at - longest
        )
        .order_by("-published_at")
        .values_list("published_at", flat=True)[:most]
    )
    return sorted([at] * in_flight + list(published), reverse=True)


# --- In words ------------------------------------------------------------------------


def _conflict_sentence(
    breach: _Breach, *, account: SocialAccount, at: datetime, zone: ZoneInfo
) -> str:
    cap, others = breach.cap, breach.others
    if cap.window_name is None:
        other = others[0]
        if other == at:
            when = "at the same time"
        else:
            when = f"{duration_words(abs(at - other))} {'before' if other < at else 'after'}"
        return (
            f"@{account.handle} already has a post at {_local_label(other, zone, at)}, {when}; "
            f"posts must be {duration_words(cap.span)} apart."
        )
    if len(others) == 1:
        already = f"a post at {_local_label(others[0], zone, at)}"
    else:
        already = (
            f"{len(others)} posts from {_local_label(others[0], zone, at)} "
            f"to {_local_label(others[-1], zone, at)}"
        )
    return (
        f"@{account.handle} already has {already}; it may post at most {_times(cap.most)} "
        f"within any {cap.window_name}."
    )


def _hold_sentence(
    *,
    cap: _Cap,
    since: datetime,
    allowed: datetime,
    at: datetime,
    account: SocialAccount,
    zone: ZoneInfo,
) -> str:
    waits = f"this one waits until {_local_label(allowed, zone, at)}."
    if cap.window_name is None:
        return (
            f"@{account.handle}'s posts must be {duration_words(cap.span)} apart and its "
            f"last post was at {_local_label(since, zone, at)}; {waits}"
        )
    return (
        f"@{account.handle} may post at most {_times(cap.most)} within any "
        f"{cap.window_name} and has posted {_times(cap.most)} since "
        f"{_local_label(since, zone, at)}; {waits}"
    )


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _local_label(instant: datetime, zone: ZoneInfo, reference: datetime) -> str:
    """The wall time in `zone`; with the date when it is not the day of `reference`."""
    wall = utc_to_wall(instant, zone)
    if wall.date() == utc_to_wall(reference, zone).date():
        return f"{wall:%H:%M}"
    return f"{wall:%a %d %b %H:%M}"


def duration_words(span: timedelta) -> str:
    """A positive duration as people say it: "15 minutes", "1 hour 30 minutes"."""
    minutes, seconds = divmod(int(span.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(hours, "hour"), (minutes, "minute"), (seconds, "second")]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n)


def _minute_ceil(instant: datetime) -> datetime:
    whole = instant.replace(second=0, microsecond=0)
    return whole if whole == instant else whole + timedelta(minutes=1)
