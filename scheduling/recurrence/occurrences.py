"""When a rule's posts go out: its occurrences as UTC instants.

Every rule but a minutes-or-hours interval is evaluated on the local wall clock of
the zone the person chose: the rule yields local wall times, and each becomes an
instant by `wall_to_utc`, the one place the gap and overlap rule lives:

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

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count, groupby, islice, takewhile
from typing import assert_never
from zoneinfo import ZoneInfo

from accounts.timezones import utc_to_wall, wall_to_utc
from scheduling.recurrence.cron import cron_walls
from scheduling.recurrence.rules import CronRule, IntervalRule, OnceRule, RRuleRule, Rule

# The finest step of a datetime: "at or after t" is "after t minus one microsecond".
_TICK = timedelta(microseconds=1)
# No gap in the tz database is longer than a day (Asia/Manila skipped 31 December
# 1844, Pacific/Apia 30 December 2011) and no zone has changed its offset twice
# within one day; `_earliest_wall` relies on both.
_LONGEST_GAP = timedelta(days=1)


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


def _instants_after(rule: Rule, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """The rule's occurrences after the UTC instant `after`, lazily, in order, once each.

    Nothing is expanded from the rule's start: each kind begins near `after`, except
    an RRULE with COUNT, whose instances can only be counted from the start.
    """
    if isinstance(rule, IntervalRule) and rule.steps_in_real_time:
        return _real_time_steps_after(rule, zone, after)
    walls = _walls_from(rule, zone, _earliest_wall(after, zone))
    return (instant for instant in _instants_of(walls, zone) if instant > after)


def _real_time_steps_after(
    rule: IntervalRule, zone: ZoneInfo, after: datetime
) -> Iterator[datetime]:
    # Only the start is a wall time (and takes the gap and overlap rule); from there
    # the steps are real minutes and hours, whatever the clocks do.
    first = wall_to_utc(rule.start, zone)
    step = timedelta(**{rule.unit: rule.every})
    steps_done = 0 if after < first else (after - first) // step + 1
    return (first + step * steps for steps in count(steps_done))


def _walls_from(rule: Rule, zone: ZoneInfo, seek: datetime) -> Iterator[datetime]:
    """The rule's local wall times in increasing order, beginning at or before `seek`."""
    match rule:
        case OnceRule():
            return iter((rule.start,))
        case IntervalRule():
            return _calendar_steps(rule, seek)
        case CronRule():
            return cron_walls(rule.expression, start=rule.start, seek=seek)
        case RRuleRule():
            return rule.recurrence.walls(zone=zone, seek=seek)
        case _:
            assert_never(rule)


def _calendar_steps(rule: IntervalRule, seek: datetime) -> Iterator[datetime]:
    # Adding days to a naive datetime moves the calendar and keeps the clock time:
    # every day at 09:00 stays 09:00, where 24 real hours would drift an hour at DST.
    step = timedelta(**{rule.unit: rule.every})
    steps_done = max(0, (seek - rule.start) // step)
    return (rule.start + step * steps for steps in count(steps_done))


def _earliest_wall(after: datetime, zone: ZoneInfo) -> datetime:
    """The earliest wall time whose instant can come after the UTC instant `after`.

    That is `after` read on the local clock, except just after a spring-forward gap:
    a wall time inside the gap moves forward by the gap, so it can land after `after`
    although the clock at `after` already reads past it. Reading `after` with the
    offset in force a day earlier reaches back over any such gap (see _LONGEST_GAP).
    """
    offset = min(_offset_at(after, zone), _offset_at(after - _LONGEST_GAP, zone))
    return (after + offset).replace(tzinfo=None)


def _instants_of(walls: Iterable[datetime], zone: ZoneInfo) -> Iterator[datetime]:
    """The instants of increasing wall times, in order, each given once."""
    # Equal instants (two walls that land on one instant) come out side by side.
    return (instant for instant, _ in groupby(_in_order(walls, zone)))


def _in_order(walls: Iterable[datetime], zone: ZoneInfo) -> Iterator[datetime]:
    """The instants of increasing wall times, put in increasing order.

    Walls increase but their instants need not: a wall in a spring-forward gap moves
    forward by the gap, past the walls just after it (New York's 02:30 becomes 03:30,
    after the 03:00 wall) or onto one of them (02:30 and 03:30 are both 03:30 EDT).
    So an instant waits until a wall later than its own local reading has gone by:
    every wall from there on maps to a later instant.
    """
    waiting: list[datetime] = []
    for wall in walls:
        while waiting and _local_reading(waiting[0], zone) < wall:
            yield heapq.heappop(waiting)
        heapq.heappush(waiting, wall_to_utc(wall, zone))
    while waiting:
        yield heapq.heappop(waiting)


def _local_reading(instant: datetime, zone: ZoneInfo) -> datetime:
    return utc_to_wall(instant, zone).replace(tzinfo=None)


def _offset_at(instant: datetime, zone: ZoneInfo) -> timedelta:
    offset = utc_to_wall(instant, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset


def _as_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("occurrences are asked for with aware instants (UTC)")
    return instant.astimezone(UTC)
