"""When a rule's posts go out: its occurrences as UTC instants.

Every rule but a minutes-or-hours interval is evaluated on the local wall clock of
the zone the person chose: the rule yields local wall times, and each becomes an
instant by `wall_to_utc`, the one place the gap and overlap rule lives. For once,
interval and cron rules (an RRULE's own rules, by FREQ, are in rrules.py):

* a wall time in a spring-forward gap moves forward by the gap (it is not dropped);
* a wall time in a fall-back overlap is its first instant, so it fires once;
* two wall times that land on the same instant (a gap time moved onto a real one)
  are one occurrence.

A whole skipped day (Pacific/Apia, 30 December 2011) is the same rule at scale: its
wall times move forward 24 hours onto the next day's and merge with them, so every
real day still has its post; only a date on the calendar went missing.

Answers are aware UTC datetimes, strictly increasing, each once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count, islice, takewhile
from typing import assert_never
from zoneinfo import ZoneInfo

from accounts.timezones import wall_to_utc
from scheduling.recurrence.cron import cron_walls
from scheduling.recurrence.instants import wall_earliest_after, walls_to_instants
from scheduling.recurrence.rules import CronRule, IntervalRule, OnceRule, RRuleRule, Rule

# The finest step of a datetime: "at or after t" is "after t minus one microsecond".
_TICK = timedelta(microseconds=1)


def occurrences_between(
    *, rule: Rule, zone: ZoneInfo, start_utc: datetime, end_utc: datetime
) -> list[datetime]:
    """The occurrences at or after `start_utc` and before `end_utc`."""
    instants = _instants_after(rule, zone, _as_utc(start_utc) - _TICK)
    end = _as_utc(end_utc)
    return list(takewhile(lambda instant: instant < end, instants))


def occurrence_next(*, rule: Rule, zone: ZoneInfo, after_utc: datetime) -> datetime | None:
    """The first occurrence strictly after `after_utc`, or None when the rule is spent."""
    return next(_instants_after(rule, zone, _as_utc(after_utc)), None)


def occurrences_next(
    *, rule: Rule, zone: ZoneInfo, after_utc: datetime, count: int = 5
) -> list[datetime]:
    """The first `count` occurrences strictly after `after_utc` (fewer if the rule ends)."""
    return list(islice(_instants_after(rule, zone, _as_utc(after_utc)), count))


def rule_count_end(*, rule: Rule, zone: ZoneInfo) -> datetime | None:
    """The last occurrence of an RRULE that ends by COUNT, or None for any other rule.

    Counting is the one time a rule is expanded from its start; keep the answer and
    hand it back to the rule (RRuleRule.count_ends_at) so no later question counts.
    """
    return rule.recurrence.count_end(zone=zone) if isinstance(rule, RRuleRule) else None


def _instants_after(rule: Rule, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """The rule's occurrences after the UTC instant `after`, lazily, in order, once each.

    Nothing is expanded from the rule's start: each kind begins near `after` (an
    RRULE with COUNT counts from its start once, see rrules.py).
    """
    if isinstance(rule, IntervalRule) and rule.steps_in_real_time:
        return _real_time_steps_after(rule, zone, after)
    if isinstance(rule, RRuleRule):
        # COUNT, UNTIL, EXDATE and the gap rule of each FREQ apply to instants there.
        return rule.recurrence.instants_after(zone=zone, after=after)
    walls = _walls_from(rule, wall_earliest_after(after, zone))
    return (instant for instant in walls_to_instants(walls, zone) if instant > after)


def _real_time_steps_after(
    rule: IntervalRule, zone: ZoneInfo, after: datetime
) -> Iterator[datetime]:
    # Only the start is a wall time (and takes the gap and overlap rule); from there
    # the steps are real minutes and hours, whatever the clocks do.
    first = wall_to_utc(rule.start, zone)
    step = timedelta(**{rule.unit: rule.every})
    steps_done = 0 if after < first else (after - first) // step + 1
    return (first + step * steps for steps in count(steps_done))


def _walls_from(rule: OnceRule | IntervalRule | CronRule, seek: datetime) -> Iterator[datetime]:
    """The local wall times of a once, interval or cron rule in increasing order,
    beginning at or before `seek`."""
    match rule:
        case OnceRule():
            return iter((rule.start,))
        case IntervalRule():
            return _calendar_steps(rule, seek)
        case CronRule():
            return cron_walls(rule.expression, start=rule.start, seek=seek)
        case _:
            assert_never(rule)


def _calendar_steps(rule: IntervalRule, seek: datetime) -> Iterator[datetime]:
    # Adding days to a naive datetime moves the calendar and keeps the clock time:
    # every day at 09:00 stays 09:00, where 24 real hours would drift an hour at DST.
    step = timedelta(**{rule.unit: rule.every})
    steps_done = max(0, (seek - rule.start) // step)
    return (rule.start + step * steps for steps in count(steps_done))


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("occurrences are asked for with aware instants (UTC)")
    return instant.astimezone(UTC)
