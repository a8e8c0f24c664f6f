"""From increasing local wall times to increasing instants, once each.

`wall_to_utc` (accounts/timezones.py) gives each wall time its instant: a time in a
spring-forward gap moves forward by the gap, a time in a fall-back overlap is its
first instant. Two consequences every rule evaluated on the wall clock shares are
handled here: the instants of increasing walls need not increase (New York's 02:30
on the spring day is 03:30 EDT, after the 03:00 wall), and two walls can land on one
instant (02:30 and 03:30 are both 03:30 EDT), which is one occurrence.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from accounts.timezones import utc_to_wall, wall_to_utc

# No gap in the tz database is longer than a day (Asia/Manila skipped 31 December
# 1844, Pacific/Apia 30 December 2011) and no zone has changed its offset twice
# within one day; `wall_earliest_after` relies on both.
LONGEST_GAP = timedelta(days=1)


def wall_earliest_after(after: datetime, zone: ZoneInfo) -> datetime:
    """The earliest wall time whose instant can come after the UTC instant `after`.

    That is `after` read on the local clock, except just after a spring-forward gap:
    a wall time inside the gap moves forward by the gap, so it can land after `after`
    although the clock at `after` already reads past it. Reading `after` with the
    offset in force a day earlier reaches back over any such gap (see LONGEST_GAP).
    """
    offset = min(_offset_at(after, zone), _offset_at(after - LONGEST_GAP, zone))
    return (after + offset).replace(tzinfo=None)


def walls_to_instants(walls: Iterable[datetime], zone: ZoneInfo) -> Iterator[datetime]:
    """The instants of increasing wall times, in order, each given once."""
    # Equal instants (two walls that land on one instant) come out side by side.
    return (instant for instant, _ in groupby(_in_order(walls, zone)))


def _in_order(walls: Iterable[datetime], zone: ZoneInfo) -> Iterator[datetime]:
    """The instants of increasing wall times, put in increasing order.

    An instant waits until a wall later than its own local reading has gone by:
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
