"""The recurrence engine against an independent reference, over many zones and years.

The reference below knows nothing of `fold`, `wall_to_utc` or the engine. It builds
each local wall time on the calendar and finds its instant by brute force: every
real instant within a day whose reading on the zone's clock is that wall time; the
first of them if there are any (an overlap), and if there are none (a gap) the wall
time moved forward by the size of the clock's jump. Examples are drawn around the
DST transitions of 2015-2035, where the two could disagree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from dateutil.rrule import rrulestr
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from scheduling.recurrence import (
    CronRule,
    IntervalRule,
    RRuleRule,
    Rule,
    occurrence_next,
    occurrences_between,
    occurrences_next,
)

MINUTE = timedelta(minutes=1)
YEARS = range(2015, 2036)
# Rules start as much as years before the days checked, so seeking is checked too.
EARLIEST_START = date(2014, 1, 1)

# The zones the unit tests name, zones with unusual transitions (at midnight, by two
# hours, by 30 or 45 minutes, "negative" DST, Ramadan pauses), and a regular sample
# of all the others.
NAMED_ZONES = {
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Apia",
    "America/Havana",
    "America/Santiago",
    "America/Asuncion",
    "America/St_Johns",
    "Asia/Beirut",
    "Asia/Gaza",
    "Asia/Tehran",
    "Africa/Casablanca",
    "Africa/Cairo",
    "Antarctica/Troll",
    "Europe/Dublin",
    "Pacific/Chatham",
    "Pacific/Norfolk",
    "Australia/Adelaide",
    "UTC",
}
ZONES = sorted(NAMED_ZONES | set(sorted(available_timezones())[::12]))
# Zones whose clocks change with the seasons (in 2025, at least): where COUNT, UNTIL
# and EXDATE can go wrong. The named ones with such changes are among them.
SEASONAL_ZONES = sorted(
    name
    for name in available_timezones() - {"localtime"}
    if datetime(2025, 1, 15, tzinfo=ZoneInfo(name)).utcoffset()
    != datetime(2025, 7, 15, tzinfo=ZoneInfo(name)).utcoffset()
)


def local_reading(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def reference_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """Kairos's instant for the local `wall` time, found by brute force."""
    readings = instants_reading(wall, zone)
    if readings:
        return readings[0]  # on the clock once, or twice: the first instant
    return reference_instant(wall + clock_jump_over(wall, zone), zone)


def instants_reading(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """Every real instant at which the zone's clock reads `wall`, in order (none in a gap)."""
    around = wall.replace(tzinfo=UTC)
    # Every offset the zone uses within a day of the wall time, read every 15 minutes.
    offsets = {
        (around + step * 15 * MINUTE).astimezone(zone).utcoffset() for step in range(-96, 97)
    }
    return sorted(
        around - offset for offset in offsets if local_reading(around - offset, zone) == wall
    )


def clock_jump_over(wall: datetime, zone: ZoneInfo) -> timedelta:
    """How far the clock jumped forward over `wall`, by walking real minutes to the jump."""
    instant = wall.replace(tzinfo=UTC) - timedelta(days=1)  # reads earlier than `wall`
    while local_reading(instant + MINUTE, zone) < wall:
        instant += MINUTE
    return local_reading(instant + MINUTE, zone) - local_reading(instant, zone) - MINUTE


def reference_occurrences(walls: list[datetime], zone: ZoneInfo) -> list[datetime]:
    return sorted({reference_instant(wall, zone) for wall in walls})


@cache
def offset_change_days(zone_name: str, year: int) -> tuple[date, ...]:
    """The UTC days of `year` on which the zone's offset changes."""
    zone = ZoneInfo(zone_name)
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    return tuple(
        day
        for day in days
        if day.year == year and offset_at(midnight(day), zone) != offset_at(midnight(day, 1), zone)
    )


@cache
def clock_change_wall(zone_name: str, day: date) -> datetime | None:
    """The local wall time at which the zone's clock changes on the UTC `day`, if it does."""
    zone = ZoneInfo(zone_name)
    minutes = [midnight(day) + n * MINUTE for n in range(24 * 60 + 1)]
    for earlier, later in pairwise(minutes):
        if offset_at(earlier, zone) != offset_at(later, zone):
            return local_reading(earlier, zone) + MINUTE
    return None


def offset_at(instant: datetime, zone: ZoneInfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def midnight(day: date, days_later: int = 0) -> datetime:
    """Midnight UTC at the start of `day`, or of `days_later` days after it."""
    return datetime.combine(day + timedelta(days=days_later), time(), tzinfo=UTC)


def calendar_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@st.composite
def zone_day_and_time(
    draw: st.DrawFn, zones: list[str] = ZONES, change_days: int = 3
) -> tuple[ZoneInfo, date, time]:
    """A zone, a UTC day (`change_days` times in four, one on which the zone changes
    its clocks, if it does) and a time of day (on such a day, within the hour before to
    two hours after the change, which takes in every gap and overlap)."""
    zone_name = draw(st.sampled_from(zones))
    year = draw(st.sampled_from(YEARS))
    changes = offset_change_days(zone_name, year)
    if changes and draw(st.integers(0, 3)) < change_days:
        day = draw(st.sampled_from(changes))
    else:
        day = draw(st.dates(date(year, 1, 1), date(year, 12, 31)))
    change = clock_change_wall(zone_name, day)
    if change is None:
        return ZoneInfo(zone_name), day, draw(st.times()).replace(second=0, microsecond=0)
    minutes = draw(st.one_of(st.sampled_from([-60, 0, 15, 30, 45, 60]), st.integers(-60, 120)))
    return ZoneInfo(zone_name), day, (change + minutes * MINUTE).time()


def daily_rule(kind: str, start: datetime) -> Rule:
    if kind == "interval":
        return IntervalRule(start=start, every=1, unit="days")
    if kind == "cron":
        return CronRule(expression=f"{start.minute} {start.hour} * * *", start=start)
    return RRuleRule(rule="FREQ=DAILY", start=start)


def weekly_rule(kind: str, start: datetime, every: int) -> Rule:
    if kind == "interval":
        return IntervalRule(start=start, every=every, unit="weeks")
    if kind == "cron":
        weekday = start.isoweekday() % 7  # cron counts from Sunday = 0
        return CronRule(expression=f"{start.minute} {start.hour} * * {weekday}", start=start)
    return RRuleRule(rule=f"FREQ=WEEKLY;INTERVAL={every}", start=start)


@given(data=st.data(), kind=st.sampled_from(["interval", "cron", "rrule"]))
def test_daily_rules_match_the_reference(data, kind):
    zone, day, at = data.draw(zone_day_and_time())
    start_day = data.draw(st.dates(EARLIEST_START, day - timedelta(days=1)))
    rule = daily_rule(kind, datetime.combine(start_day, at))
    walls = [
        datetime.combine(each, at)
        for each in calendar_days(max(start_day, day - timedelta(days=4)), day + timedelta(days=5))
    ]
    expected = reference_occurrences(walls, zone)
    window_start, window_end = midnight(day, -2), midnight(day, 3)
    in_window = [instant for instant in expected if window_start <= instant < window_end]

    assert (
        occurrences_between(rule=rule, zone=zone, start_utc=window_start, end_utc=window_end)
        == in_window
    )
    # Just before an occurrence is where "next" can go wrong: after a spring-forward
    # gap the clock reads past a gap time whose occurrence is still to come.
    for instant in in_window:
        for before in (MINUTE, 15 * MINUTE, 45 * MINUTE, 3 * 60 * MINUTE):
            after = instant - before
            assert occurrence_next(rule=rule, zone=zone, after_utc=after) == next(
                later for later in expected if later > after
            )


@given(data=st.data(), kind=st.sampled_from(["interval", "cron", "rrule"]))
def test_weekly_rules_match_the_reference(data, kind):
    zone, day, at = data.draw(zone_day_and_time())
    every = 1 if kind == "cron" else data.draw(st.integers(1, 3))
    start = datetime.combine(data.draw(st.dates(EARLIEST_START, day)), at)
    rule = weekly_rule(kind, start, every)
    period = timedelta(weeks=every)
    window_start, window_end = midnight(day - period), midnight(day + period, 1)
    first_step = max(0, (window_start.replace(tzinfo=None) - start) // period - 1)
    walls = [start + step * period for step in range(first_step, first_step + 5)]

    assert occurrences_between(
        rule=rule, zone=zone, start_utc=window_start, end_utc=window_end
    ) == [
        instant
        for instant in reference_occurrences(walls, zone)
        if window_start <= instant < window_end
    ]


@given(data=st.data(), unit=st.sampled_from(["minutes", "hours"]))
def test_minute_and_hour_intervals_step_in_real_time(data, unit):
    zone, day, at = data.draw(zone_day_and_time())
    every = data.draw(st.sampled_from([1, 7, 30, 90]) if unit == "minutes" else st.integers(1, 5))
    start = datetime.combine(day - timedelta(days=data.draw(st.integers(0, 3))), at)
    rule = IntervalRule(start=start, every=every, unit=unit)
    step = timedelta(**{unit: every})
    window_start, window_end = midnight(day), midnight(day, 1)
    # From the start's own instant, each step is `every` real minutes or hours.
    expected, instant = [], reference_instant(start, zone)
    while instant < window_end:
        if instant >= window_start:
            expected.append(instant)
        instant += step

    assert (
        occurrences_between(rule=rule, zone=zone, start_utc=window_start, end_utc=window_end)
        == expected
    )


# How far past the start an RRULE is asked about: dateutil, the reference here,
# walks every period from the start, so fine-grained rules are asked about sooner.
REACH = {
    "MINUTELY": timedelta(days=20),
    "HOURLY": timedelta(days=400),
    "DAILY": timedelta(days=7300),
    "WEEKLY": timedelta(days=7300),
    "MONTHLY": timedelta(days=7300),
    "YEARLY": timedelta(days=7300),
}
EXTRA_PARTS = {
    "MINUTELY": ["", ";BYMINUTE=0,20,45", ";BYHOUR=9"],
    "HOURLY": ["", ";BYHOUR=1,6,11,16", ";BYDAY=MO"],
    "DAILY": ["", ";BYDAY=MO,WE,FR", ";BYHOUR=9,17", ";BYMONTH=1,7"],
    "WEEKLY": ["", ";BYDAY=TU,SU", ";BYDAY=MO;WKST=SU", ";BYDAY=SA,SU;WKST=MO"],
    "MONTHLY": ["", ";BYMONTHDAY=31", ";BYMONTHDAY=-1", ";BYDAY=2TU", ";BYDAY=-1FR"],
    # Not 29 February: with an INTERVAL it may never come round.
    "YEARLY": ["", ";BYMONTH=3;BYDAY=-1SU", ";BYYEARDAY=100"],
}


@st.composite
def rrule_start_and_after(draw: st.DrawFn) -> tuple[str, datetime, datetime]:
    """An RRULE of a shape that dateutil completes from DTSTART (the defaults that
    seeking must keep), its start, and a moment after it to ask about."""
    freq = draw(st.sampled_from(sorted(REACH)))
    line = (
        f"FREQ={freq};INTERVAL={draw(st.integers(1, 4))}{draw(st.sampled_from(EXTRA_PARTS[freq]))}"
    )
    start = draw(st.datetimes(datetime(2015, 1, 1), datetime(2025, 12, 31))).replace(
        second=0, microsecond=0
    )
    after = start + draw(st.timedeltas(timedelta(0), REACH[freq]))
    return line, start, after


@given(case=rrule_start_and_after())
def test_rrule_seeking_matches_dateutil_expanding_from_the_start(case):
    line, start, after = case
    try:
        expansion = rrulestr(line, dtstart=start)
    except ValueError:
        # dateutil refuses some starts outright ("FREQ=MINUTELY;INTERVAL=3;BYMINUTE=0"
        # from minute 1 never reaches minute 0); so must Kairos.
        with pytest.raises(ValidationError):
            RRuleRule(rule=line, start=start)
        return
    # UTC has no DST, so the engine (which restarts the rule near `after`) must answer
    # exactly what dateutil does when it expands the rule from its start.
    expected = [wall.replace(tzinfo=UTC) for wall in expansion.xafter(after, count=3)]

    fired = occurrences_next(
        rule=RRuleRule(rule=line, start=start),
        zone=ZoneInfo("UTC"),
        after_utc=after.replace(tzinfo=UTC),
        count=3,
    )

    assert fired == expected


# COUNT, UNTIL and EXDATE, across the gaps and overlaps drawn above. The reference
# takes the rule's wall times as the calendar gives them, makes each an instant by
# brute force (a day-or-longer rule moves a gap time forward, an hourly or minutely
# one leaves it out), keeps each instant once, then applies COUNT or UNTIL to the
# instants, then leaves out the instants of the excluded wall times.
def reference_series(
    walls: list[datetime],
    zone: ZoneInfo,
    *,
    skips_gaps: bool,
    count: int | None,
    until: datetime | None,
    exdates: list[datetime],
) -> list[datetime]:
    if skips_gaps:
        walls = [wall for wall in walls if instants_reading(wall, zone)]
    instants = reference_occurrences(walls, zone)
    if count is not None:
        instants = instants[:count]
    if until is not None:
        instants = [instant for instant in instants if instant <= until]
    excluded = {reference_instant(wall, zone) for wall in exdates}
    return [instant for instant in instants if instant not in excluded]


@st.composite
def bounds_and_exclusions(
    draw: st.DrawFn, walls: list[datetime], zone: ZoneInfo
) -> tuple[str, int | None, datetime | None, list[datetime]]:
    """COUNT or UNTIL (in UTC or local time), as an RRULE part and as the reference's
    values, and EXDATEs: some of the rule's wall times, or the times its posts show."""
    near = walls[: len(walls) // 2]
    if draw(st.booleans()):
        count = draw(st.integers(1, len(near)))
        part, until = f";COUNT={count}", None
    else:
        count = None
        around = draw(st.sampled_from(near)) + draw(st.sampled_from([-61, -1, 0, 1, 30])) * MINUTE
        if draw(st.booleans()):
            until = reference_instant(around, zone) + draw(st.sampled_from([-1, 0, 1])) * MINUTE
            part = f";UNTIL={until:%Y%m%dT%H%M%S}Z"
        else:
            until = reference_instant(around, zone)
            part = f";UNTIL={around:%Y%m%dT%H%M%S}"
    named = draw(st.lists(st.sampled_from(near), max_size=3))
    shown = [
        local_reading(reference_instant(wall, zone), zone)
        for wall in draw(st.lists(st.sampled_from(near), max_size=2))
    ]
    return part, count, until, named + shown


@given(data=st.data(), two_a_day=st.booleans())
def test_daily_rrule_count_until_and_exdate_match_the_reference(data, two_a_day):
    zone, day, at = data.draw(zone_day_and_time(SEASONAL_ZONES, change_days=4))
    start = datetime.combine(day - timedelta(days=data.draw(st.integers(0, 3))), at)
    # Two times an hour apart each day: a gap can move the first onto the second.
    times = [start.time(), (start + 60 * MINUTE).time()] if two_a_day else [start.time()]
    walls = sorted(
        datetime.combine(start.date() + timedelta(days=n), each)
        for n in range(14)
        for each in times
    )
    walls = [wall for wall in walls if wall >= start]
    part, count, until, exdates = data.draw(bounds_and_exclusions(walls, zone))
    by = f";BYHOUR={','.join(str(t.hour) for t in times)};BYMINUTE={at.minute}" if two_a_day else ""
    rule = RRuleRule(rule=f"FREQ=DAILY{by}{part}", start=start, exdates=tuple(exdates))

    fired = occurrences_next(
        rule=rule, zone=zone, after_utc=midnight(start.date(), -2), count=len(walls)
    )

    assert fired == reference_series(
        walls, zone, skips_gaps=False, count=count, until=until, exdates=exdates
    )


@given(data=st.data(), freq=st.sampled_from(["HOURLY", "MINUTELY"]))
def test_hourly_and_minutely_rrule_count_until_and_exdate_match_the_reference(data, freq):
    zone, day, at = data.draw(zone_day_and_time(SEASONAL_ZONES, change_days=4))
    every = data.draw(st.sampled_from([1, 2]) if freq == "HOURLY" else st.sampled_from([15, 30]))
    step = timedelta(hours=every) if freq == "HOURLY" else every * MINUTE
    start = datetime.combine(day, at) - step * data.draw(st.integers(0, 4))
    # The calendar steps the wall clock: the walls are the start plus whole steps.
    walls = [start + step * n for n in range(16)]
    part, count, until, exdates = data.draw(bounds_and_exclusions(walls, zone))
    rule = RRuleRule(
        rule=f"FREQ={freq};INTERVAL={every}{part}", start=start, exdates=tuple(exdates)
    )

    fired = occurrences_next(
        rule=rule, zone=zone, after_utc=midnight(start.date(), -2), count=len(walls)
    )

    assert fired == reference_series(
        walls, zone, skips_gaps=True, count=count, until=until, exdates=exdates
    )


def test_the_suite_covers_fifty_zones_and_the_named_ones():
    assert len(ZONES) >= 50
    assert set(ZONES) >= NAMED_ZONES
    assert len(SEASONAL_ZONES) >= 50
    assert set(SEASONAL_ZONES) >= {"America/New_York", "Europe/London", "Australia/Lord_Howe"}
