"""RFC 5545 recurrence rules (RRULE): expanded on the local wall clock by
python-dateutil, then made instants, bounded, counted and excluded here, in one place.

dateutil is handed the start as a naive wall time, so it expands the rule on the
local calendar and knows nothing of DST; it is handed neither COUNT nor UNTIL, which
are applied below to instants. The rules, by frequency (docs/time.md gives them with
examples):

* YEARLY, MONTHLY, WEEKLY, DAILY step on the calendar. A wall time in a spring-forward
  gap moves forward by the gap, so "every day at 02:30" posts at 03:30 EDT on the day
  New York skips 02:00-03:00 and never loses a day. RFC 5545 would drop the instance;
  Kairos deliberately does not (a dropped post is a lost post).
* HOURLY and MINUTELY step through the clock's hours and minutes. A wall time in a gap
  is not on the clock and is skipped, as RFC 5545 says: FREQ=HOURLY goes from 01:00
  EST to 03:00 EDT on that day. The skipped time is not an occurrence and not counted.
* Every frequency: a wall time in a fall-back overlap is its first instant, once
  (FREQ=HOURLY goes 01:00 EDT, 02:00 EST: the repeated hour is not posted twice), and
  walls that land on one instant (02:30 moved onto a real 03:30) are one occurrence.
* UNTIL is an instant: with a Z it is UTC, without one it is local wall time read by
  the rule above. An occurrence is kept when its instant is at or before UNTIL's.
* COUNT=N is the first N occurrences by instant, so it means N posts whatever the
  clocks do. Its last instant is counted once and kept (Schedule.series_ends_at, or
  per process and zone), so later questions seek near the moment asked instead of
  counting from DTSTART.
* EXDATE: each excluded local wall time becomes its instant by the same rule, and the
  occurrence at that instant is left out, whichever wall time produced it. As in RFC
  5545, excluded occurrences still count towards COUNT: COUNT=5 with one EXDATE on
  the series gives 4 posts.

Every expansion is bounded: dateutil walks at most about ten years of calendar
without finding an instance (see `_BoundedRRule`); a rule with nothing in that reach
has ended. The numbers a person can type are limited so that no step overflows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice, takewhile
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from accounts.timezones import wall_exists, wall_to_utc
from scheduling.recurrence.instants import LONGEST_GAP, wall_earliest_after, walls_to_instants

RRULE_EXAMPLE = "FREQ=WEEKLY;BYDAY=MO,WE"
# Wall times a rule may name (DTSTART, UNTIL, EXDATE): zone rules before 1900 are
# guesses, and a date near the year 9999 would overflow once made an instant.
YEARS_ACCEPTED = range(1900, 2200)
# One schedule makes at most this many posts by COUNT; counting them is the one time a
# rule is expanded from its start (about a tenth of a second at this size).
MAX_COUNT = 10_000
MAX_EXDATES = 1_000
# How many instances one period may hold (FREQ=YEARLY;BYHOUR=0,...,23 would hold
# 8,784): seeking restarts at a period's beginning and passes over those before the
# moment asked, which must stay cheap.
MAX_PER_PERIOD = 10_000

_FREQ_UNITS = {
    "YEARLY": "years",
    "MONTHLY": "months",
    "WEEKLY": "weeks",
    "DAILY": "days",
    "HOURLY": "hours",
    "MINUTELY": "minutes",
}
_STEPS_ON_THE_CLOCK = frozenset({"HOURLY", "MINUTELY"})
# The longest INTERVAL of each FREQ: ten years between posts.
_MAX_INTERVAL = {
    "YEARLY": 10,
    "MONTHLY": 120,
    "WEEKLY": 521,
    "DAILY": 3_652,
    "HOURLY": 87_660,
    "MINUTELY": 5_259_600,
}
# The numbers each BY part takes, and whether they may count from the end (-1 = last).
_BY_RANGES = {
    "BYMONTH": (1, 12, False, "a month, 1 to 12"),
    "BYWEEKNO": (1, 53, True, "a week of the year, 1 to 53 or -1 to -53 from the end"),
    "BYYEARDAY": (1, 366, True, "a day of the year, 1 to 366 or -1 to -366 from the end"),
    "BYMONTHDAY": (1, 31, True, "a day of the month, 1 to 31 or -1 to -31 from the end"),
    "BYHOUR": (0, 23, False, "an hour, 0 to 23"),
    "BYMINUTE": (0, 59, False, "a minute, 0 to 59"),
    "BYSETPOS": (1, 366, True, "a position, 1 to 366 or -1 to -366 from the end"),
}
# The parts Kairos reads. dateutil reads more (BYEASTER, BYWEEKDAY, BYNWEEKDAY), which
# are not RFC 5545 and would pass around the checks below.
_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", *_BY_RANGES})
_DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_BYDAY = re.compile(r"^([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)$")
_SIGNED = re.compile(r"^[+-]?\d+$")
_UNTIL_FORMAT = "%Y%m%dT%H%M%S"
_UNTIL_VALUE = re.compile(r"^\d{8}T\d{6}Z?$")
_BEFORE_EVERYTHING = datetime.min.replace(tzinfo=UTC)


class RRuleProblem(ValueError):
    """An RRULE that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Recurrence:
    """A parsed RRULE with its start and excluded wall times, ready to expand."""

    line: str  # the rule as entered, without "RRULE:"
    # DTSTART is `start`; no COUNT and no UNTIL, which apply to instants.
    expansion: rrule = field(compare=False)
    start: datetime
    freq: str
    interval: int
    count: int | None
    until: datetime | None  # as written, without its Z
    until_is_utc: bool
    exdates: frozenset[datetime]
    # The instant of the COUNT-th occurrence, when it was counted before (it is kept
    # with the schedule); otherwise it is counted here, once per process and zone.
    count_ends_at: datetime | None = None

    @property
    def unit(self) -> str:
        """FREQ as a relativedelta keyword ("weeks")."""
        return _FREQ_UNITS[self.freq]

    @property
    def skips_gaps(self) -> bool:
        return self.freq in _STEPS_ON_THE_CLOCK

    def walls(self, *, seek: datetime) -> Iterator[datetime]:
        """The rule's wall times in order (before COUNT, UNTIL and EXDATE), beginning
        near the wall time `seek`, and ending after ten years or so without one."""
        expansion = _restarted_near(
            self.expansion, start=self.start, seek=seek, unit=self.unit, interval=self.interval
        )
        return iter(expansion)

    def instants_after(self, *, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
        """The occurrences strictly after the UTC instant `after`, in order, once each."""
        bounds = _bounds(self, zone)
        instants = self._instants(zone, seek=wall_earliest_after(after, zone))
        if bounds.last is not None:
            instants = takewhile(lambda instant: instant <= bounds.last, instants)
        return (
            instant for instant in instants if instant > after and instant not in bounds.excluded
        )

    def count_end(self, *, zone: ZoneInfo) -> datetime | None:
        """The instant of the last occurrence COUNT allows, or None without COUNT."""
        return _bounds(self, zone).last if self.count is not None else None

    def first_instant(self, *, zone: ZoneInfo) -> datetime | None:
        """The first occurrence, or None if there is none within reach."""
        # A wall after the start can have an earlier instant than the start's own
        # (02:30 in a gap is 03:30, after the 03:00 wall), so begin a day earlier.
        after = wall_to_utc(self.start, zone) - LONGEST_GAP
        return next(self.instants_after(zone=zone, after=after), None)

    def _instants(self, zone: ZoneInfo, *, seek: datetime) -> Iterator[datetime]:
        walls = self.walls(seek=seek)
        if self.skips_gaps:
            walls = (wall for wall in walls if wall_exists(wall, zone))
        return walls_to_instants(walls, zone)


@dataclass(frozen=True)
class _Bounds:
    last: datetime | None  # the last instant UNTIL or COUNT allows; None: no end
    excluded: frozenset[datetime]


@lru_cache(maxsize=4096)
def _bounds(recurrence: Recurrence, zone: ZoneInfo) -> _Bounds:
    """Where the series ends and which instants it leaves out, in `zone`.

    Cached: this is the one place a rule is expanded from its start (to find its
    COUNT-th instant), and a schedule asks again at every occurrence.
    """
    excluded = frozenset(wall_to_utc(wall, zone) for wall in recurrence.exdates)
    if recurrence.until is not None:
        if recurrence.until_is_utc:
            return _Bounds(last=recurrence.until.replace(tzinfo=UTC), excluded=excluded)
        return _Bounds(last=wall_to_utc(recurrence.until, zone), excluded=excluded)
    if recurrence.count is not None and recurrence.count_ends_at is not None:
        return _Bounds(last=recurrence.count_ends_at, excluded=excluded)
    if recurrence.count is not None:
        seek = recurrence.start - LONGEST_GAP
        counted = list(islice(recurrence._instants(zone, seek=seek), recurrence.count))
        return _Bounds(last=counted[-1] if counted else _BEFORE_EVERYTHING, excluded=excluded)
    return _Bounds(last=None, excluded=excluded)


class _BoundedRRule(rrule):
    """dateutil's rrule that gives up after walking about ten years without an instance.

    Left alone, dateutil walks period after period up to the year 9999 when none
    yields an instance (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 takes seconds, an hourly
    rule longer), and neither UNTIL nor COUNT stops it: both are checked only against
    instances found. What it does at every new month it enters (every period, for
    YEARLY and MONTHLY) is rebuild its calendar masks, which reads `_bynweekday`;
    counting those reads is the one handle dateutil offers on that walk. A rule whose
    periods are shorter than a day cannot spin within a month without an instance,
    because BYSETPOS is refused for them (see `rrule_parts`).
    tests/scheduling/test_rrules.py holds the installed dateutil to this.
    """

    # Ten years of months (of periods, for YEARLY and MONTHLY) without an instance.
    MONTHS = 120
    _steps = 0
    _step_limit = MONTHS

    @property
    def _bynweekday(self):
        self._steps += 1
        if self._steps > self._step_limit:
            raise _OutOfReach
        return self._bynweekday_value

    @_bynweekday.setter
    def _bynweekday(self, value) -> None:
        self._bynweekday_value = value

    def _iter(self):
        # A rule with an nth weekday (BYDAY=2TU) reads it once more in each rebuild for
        # each month the period covers: up to 12, for a yearly rule.
        self._step_limit = self.MONTHS * (13 if self._bynweekday_value else 1)
        self._steps = 0
        try:
            for wall in super()._iter():
                self._steps = 0
                yield wall
        except _OutOfReach:
            return

    def replace(self, **kwargs) -> _BoundedRRule:
        # dateutil's own replace builds a plain rrule, without the bound.
        return _BoundedRRule.of(super().replace(**kwargs))

    @classmethod
    def of(cls, plain: rrule) -> _BoundedRRule:
        return cls(
            freq=plain._freq,
            dtstart=plain._dtstart,
            interval=plain._interval,
            wkst=plain._wkst,
            count=plain._count,
            until=plain._until,
            **plain._original_rule,
        )


class _OutOfReach(Exception):
    pass


def rrule_parse(
    text: str,
    *,
    start: datetime,
    exdates: tuple[datetime, ...],
    count_ends_at: datetime | None = None,
) -> Recurrence:
    """The RRULE line `text` starting at the wall time `start`; RRuleProblem if unusable.

    `count_ends_at` is what `Recurrence.count_end` answered before, in the same zone.
    """
    body = _rrule_body(text)
    parts = rrule_parts(body)
    if len(exdates) > MAX_EXDATES:
        raise RRuleProblem(
            f"Leave out at most {MAX_EXDATES:,} dates; for more, end this schedule and "
            "start another."
        )
    # COUNT and UNTIL are Kairos's to apply, to instants; dateutil expands the rest.
    expanded = ";".join(
        f"{name}={value}" for name, value in parts.items() if name not in ("COUNT", "UNTIL")
    )
    try:
        expansion = _BoundedRRule.of(rrulestr(expanded, dtstart=start))
    except ValueError as exc:
        raise RRuleProblem(
            f"This rule does not parse ({exc}); write it like {RRULE_EXAMPLE}."
        ) from exc
    until = parts.get("UNTIL")
    return Recurrence(
        line=body,
        expansion=expansion,
        start=start,
        freq=parts["FREQ"],
        interval=int(parts.get("INTERVAL", "1")),
        count=int(parts["COUNT"]) if "COUNT" in parts else None,
        until=_until_wall(until) if until else None,
        until_is_utc=bool(until and until.endswith("Z")),
        exdates=frozenset(exdates),
        count_ends_at=count_ends_at,
    )


def _until_wall(value: str) -> datetime:
    return datetime.strptime(value.rstrip("Z"), _UNTIL_FORMAT)


def _rrule_body(text: str) -> str:
    """The rule without its optional "RRULE:" name; anything more is refused."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body:
        raise RRuleProblem(f"Enter a rule, for example {RRULE_EXAMPLE}.")
    if ":" in body or "\n" in body:
        raise RRuleProblem(
            f"Enter only the RRULE line, for example {RRULE_EXAMPLE}; "
            "the start and the excluded dates have fields of their own."
        )
    return body


def rrule_parts(body: str) -> dict[str, str]:
    """The NAME=VALUE parts of the rule, checked for what dateutil lets through.

    dateutil parses the rule; these checks catch what it accepts but Kairos cannot use
    (INTERVAL=0 repeats one instant forever, BYMONTHDAY=99 never comes), what would
    cost without bound, and what it reports as a Python error.
    """
    parts: dict[str, str] = {}
    for part in body.split(";"):
        if not part.strip():
            raise RRuleProblem("Remove the empty part: a “;” at the end or two in a row.")
        name, equals, value = part.partition("=")
        if not equals:
            raise RRuleProblem(
                f"“{part}” is not a NAME=VALUE part; separate parts with one “;”, "
                f"as in {RRULE_EXAMPLE}."
            )
        parts[name.strip().upper()] = value.strip().upper()
    unknown = sorted(set(parts) - _PARTS - {"BYSECOND"})
    if unknown:
        raise RRuleProblem(
            f"{unknown[0]} is not a part of an RRULE that Kairos reads; use FREQ, INTERVAL, "
            "COUNT or UNTIL, WKST, and BYMONTH, BYWEEKNO, BYYEARDAY, BYMONTHDAY, BYDAY, "
            "BYHOUR, BYMINUTE or BYSETPOS."
        )
    freq = parts.get("FREQ")
    if freq == "SECONDLY":
        raise RRuleProblem(
            "FREQ=SECONDLY is not offered: Kairos schedules to the minute. "
            "Use FREQ=MINUTELY, or a longer FREQ."
        )
    if freq not in _FREQ_UNITS:
        raise RRuleProblem(
            "Start the rule with FREQ=YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY or MINUTELY."
        )
    if "BYSECOND" in parts:
        raise RRuleProblem(
            "BYSECOND is not offered: Kairos schedules to the minute. Remove it; the "
            "seconds of the start time are used."
        )
    for problem in (
        _whole_number_problem(parts, "INTERVAL", most=_MAX_INTERVAL[freq], why=_interval_why(freq)),
        _whole_number_problem(parts, "COUNT", most=MAX_COUNT, why=_COUNT_WHY),
        *(_by_problem(name, parts[name]) for name in _BY_RANGES if name in parts),
        _byday_problem(parts.get("BYDAY")),
        _bysetpos_problem(freq, parts),
        _minutes_through_days_problem(freq, parts),
        _per_period_problem(freq, parts),
    ):
        if problem:
            raise RRuleProblem(problem)
    if "COUNT" in parts and "UNTIL" in parts:
        raise RRuleProblem("Use COUNT or UNTIL, not both.")
    if "UNTIL" in parts:
        until = parts["UNTIL"]
        if not _UNTIL_VALUE.match(until):
            raise RRuleProblem(
                "Write UNTIL as a date and time, in UTC (20251231T235959Z) or local time "
                "(20251231T235959)."
            )
        try:
            year = _until_wall(until).year
        except ValueError as exc:
            raise RRuleProblem(f"UNTIL={until} is not a date and time that exists.") from exc
        if year not in YEARS_ACCEPTED:
            raise RRuleProblem(
                f"UNTIL={until} is out of range: give a date from {YEARS_ACCEPTED[0]} "
                f"to {YEARS_ACCEPTED[-1]}."
            )
    return parts


_COUNT_WHY = "more posts than one schedule may make; for a longer series leave COUNT out"


def _interval_why(freq: str) -> str:
    return f"more than ten years between posts with FREQ={freq}"


def _whole_number_problem(parts: dict[str, str], name: str, *, most: int, why: str) -> str:
    value = parts.get(name, "1")
    if not value.isdigit() or int(value) < 1:
        return f"{name} must be a whole number of 1 or more."
    if int(value) > most:
        return f"{name}={value} is {why}: use at most {most:,}."
    return ""


def _by_problem(name: str, value: str) -> str:
    low, high, from_end, meaning = _BY_RANGES[name]
    for item in value.split(","):
        if not _SIGNED.match(item):
            return f"{name}={value}: “{item}” is not a whole number; {name} takes {meaning}."
        number = int(item)
        if not (low <= number <= high or (from_end and -high <= number <= -low)):
            return f"{name}={value}: {item} is out of range; {name} takes {meaning}."
    return ""


def _byday_problem(value: str | None) -> str:
    if value is None:
        return ""
    for item in value.split(","):
        match = _BYDAY.match(item)
        if not match:
            return (
                f"BYDAY={value}: “{item}” is not a weekday; use MO, TU, WE, TH, FR, SA or SU, "
                "optionally after a position such as 2TU or -1FR."
            )
        if match[1] and not 1 <= abs(int(match[1])) <= 53:
            return (
                f"BYDAY={value}: {item} is out of range; the position before the weekday "
                "is 1 to 53, or -1 to -53 from the end."
            )
    return ""


def _minutes_through_days_problem(freq: str, parts: dict[str, str]) -> str:
    # dateutil looks for a minute of BYHOUR one minute at a time, through every day
    # its day parts skip: years of them for a rule on 29 February. FREQ=HOURLY with
    # BYMINUTE says the same and skips a day in one step.
    day_parts = [name for name in _DAY_PARTS if name in parts]
    if freq == "MINUTELY" and "BYHOUR" in parts and day_parts:
        return (
            f"FREQ=MINUTELY with BYHOUR and {day_parts[0]} is searched minute by minute; "
            "write it as FREQ=HOURLY with BYHOUR and BYMINUTE, for example "
            "FREQ=HOURLY;BYHOUR=9,10;BYMINUTE=0,15,30,45;BYDAY=MO,TU,WE,TH,FR."
        )
    return ""


def _bysetpos_problem(freq: str, parts: dict[str, str]) -> str:
    # An hourly or minutely period holds one time, or one per BYMINUTE: picking the
    # nth says nothing BYMINUTE cannot, and one that is never there would be looked
    # for minute after minute.
    if "BYSETPOS" in parts and freq in _STEPS_ON_THE_CLOCK:
        return (
            f"BYSETPOS picks among the times of each period, and a FREQ={freq} period has "
            "too few to pick from; use BYMINUTE or BYHOUR instead."
        )
    return ""


def _per_period_problem(freq: str, parts: dict[str, str]) -> str:
    most = _per_period_at_most(freq, parts)
    if most <= MAX_PER_PERIOD:
        return ""
    period = {"YEARLY": "year", "MONTHLY": "month", "WEEKLY": "week"}.get(freq, "day")
    return (
        f"This rule can give up to {most:,} posts in one {period}, more than "
        f"{MAX_PER_PERIOD:,}; use a shorter FREQ (DAILY, HOURLY or MINUTELY) with BYHOUR "
        "and BYMINUTE."
    )


def _per_period_at_most(freq: str, parts: dict[str, str]) -> int:
    """An upper bound on the instances one period of the rule holds."""

    def how_many(name: str) -> int:
        return len(parts[name].split(",")) if name in parts else 0

    months = (how_many("BYMONTH") or 12) if freq == "YEARLY" else 1
    weeks = {"YEARLY": 53, "MONTHLY": 5}.get(freq, 1)
    days = {"YEARLY": 366, "MONTHLY": 31, "WEEKLY": 7}.get(freq, 1)
    for narrowed in (
        how_many("BYYEARDAY"),
        how_many("BYMONTHDAY") * months,
        how_many("BYDAY") * weeks,
        how_many("BYWEEKNO") * 7,
        how_many("BYMONTH") * 31,
    ):
        if narrowed:
            days = min(days, narrowed)
    hours = (how_many("BYHOUR") or 1) if freq not in _STEPS_ON_THE_CLOCK else 1
    minutes = (how_many("BYMINUTE") or 1) if freq != "MINUTELY" else 1
    return days * hours * minutes


def _restarted_near(
    expansion: rrule, *, start: datetime, seek: datetime, unit: str, interval: int
) -> rrule:
    """`expansion` with DTSTART moved forward to the last restart at or before `seek`.

    dateutil walks every period from DTSTART, so a daily rule begun five years ago
    would walk 1,800 days to find tomorrow. Moving DTSTART leaves the instances from
    the new DTSTART on unchanged, provided it moves by whole periods of INTERVAL (the
    phase of "every 2 weeks" and the WKST alignment of weeks stay put) and keeps its
    day of the month when it moves by months or years: dateutil fills a missing
    BYMONTHDAY or BYMONTH from DTSTART. The restart itself adds no instance: dateutil
    yields DTSTART only when it matches the rule.
    """
    periods = _periods_between(start, seek, unit=unit) // interval
    while periods > 0:
        restart = start + relativedelta(**{unit: periods * interval})
        if restart <= seek and not _day_clamped(start, restart, unit=unit):
            return expansion.replace(dtstart=restart)
        periods -= 1
    return expansion


def _day_clamped(start: datetime, restart: datetime, *, unit: str) -> bool:
    # relativedelta turns 31 January plus a month into 28 February, and 29 February
    # plus a year into 28 February.
    return unit in ("months", "years") and restart.day != start.day


def _periods_between(start: datetime, seek: datetime, *, unit: str) -> int:
    """Whole `unit`s from `start` to `seek` (months and years counted on the calendar)."""
    if seek <= start:
        return 0
    if unit in ("years", "months"):
        months = (seek.year - start.year) * 12 + seek.month - start.month
        return months // 12 if unit == "years" else months
    return (seek - start) // timedelta(**{unit: 1})
