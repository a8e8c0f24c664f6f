"""RFC 5545 recurrence rules (RRULE), expanded by python-dateutil in local wall time.

dateutil is handed the start as a naive wall time, so it expands the rule on the
local calendar and knows nothing of DST; each instance becomes an instant afterwards
through `wall_to_utc`. That is where Kairos departs from RFC 5545 on purpose: the
RFC ignores an instance that falls in a spring-forward gap, Kairos moves it forward
by the gap (see accounts/timezones.py). A consequence worth knowing: FREQ=HOURLY
follows the wall clock too, so the hour the clock skips collapses onto the next one
and the hour it repeats fires once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from accounts.timezones import utc_to_wall

RRULE_EXAMPLE = "FREQ=WEEKLY;BYDAY=MO,WE"

# A rule with no date this long after its start is taken to have none at all: dateutil
# searches an impossible rule (BYMONTH=2;BYMONTHDAY=30) period by period up to the
# year 9999, which takes seconds, and no one schedules a post a decade ahead.
OCCURS_WITHIN = relativedelta(years=10)

_FREQ_UNITS = {
    "YEARLY": "years",
    "MONTHLY": "months",
    "WEEKLY": "weeks",
    "DAILY": "days",
    "HOURLY": "hours",
    "MINUTELY": "minutes",
    "SECONDLY": "seconds",
}
_UNTIL_FORMAT = "%Y%m%dT%H%M%S"
_UNTIL_VALUE = re.compile(r"^\d{8}T\d{6}Z?$")


class RRuleProblem(ValueError):
    """An RRULE that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Recurrence:
    """A parsed RRULE with its start and excluded wall times, ready to expand."""

    line: str  # the rule as entered, without "RRULE:"
    expansion: rrule  # DTSTART is `start`; UNTIL as written when it is local
    start: datetime
    unit: str  # FREQ as a relativedelta keyword ("weeks")
    interval: int
    count: int | None
    until: datetime | None  # as written, without its Z
    until_is_utc: bool
    exdates: frozenset[datetime]

    def walls(self, *, zone: ZoneInfo, seek: datetime) -> Iterator[datetime]:
        """The rule's local wall times in order, beginning near the wall time `seek`."""
        expansion = self._expansion_in(zone)
        # COUNT numbers the instances from the start, so a counted rule is expanded
        # from its start every time; only uncounted rules can begin near `seek`.
        if self.count is None:
            expansion = _restarted_near(
                expansion, start=self.start, seek=seek, unit=self.unit, interval=self.interval
            )
        return (wall for wall in expansion if wall not in self.exdates)

    def first_wall(self, *, zone: ZoneInfo) -> datetime | None:
        """The rule's first wall time within OCCURS_WITHIN of its start, or None."""
        horizon = self.start + OCCURS_WITHIN
        until = self._until_wall(zone)
        bounded = self.expansion.replace(count=None, until=min(until or horizon, horizon))
        walls = islice(bounded, self.count) if self.count else iter(bounded)
        return next((wall for wall in walls if wall not in self.exdates), None)

    def _expansion_in(self, zone: ZoneInfo) -> rrule:
        if not self.until_is_utc:
            return self.expansion
        return self.expansion.replace(until=self._until_wall(zone))

    def _until_wall(self, zone: ZoneInfo) -> datetime | None:
        """UNTIL as a local wall time; one given in UTC reads as the local clock then."""
        if self.until is None or not self.until_is_utc:
            return self.until
        return utc_to_wall(self.until.replace(tzinfo=UTC), zone).replace(tzinfo=None)


def rrule_parse(text: str, *, start: datetime, exdates: tuple[datetime, ...]) -> Recurrence:
    """The RRULE line `text` starting at the wall time `start`; RRuleProblem if unusable."""
    body = _rrule_body(text)
    parts = rrule_parts(body)
    try:
        # ignoretz: dateutil refuses a UTC UNTIL next to a naive DTSTART, so it reads
        # UNTIL as written here and `Recurrence` honours the Z itself.
        expansion = rrulestr(body, dtstart=start, ignoretz=True)
    except ValueError as exc:
        raise RRuleProblem(
            f"This rule does not parse ({exc}); write it like {RRULE_EXAMPLE}."
        ) from exc
    until = parts.get("UNTIL")
    return Recurrence(
        line=body,
        expansion=expansion,
        start=start,
        unit=_FREQ_UNITS[parts["FREQ"]],
        interval=int(parts.get("INTERVAL", "1")),
        count=int(parts["COUNT"]) if "COUNT" in parts else None,
        until=datetime.strptime(until.rstrip("Z"), _UNTIL_FORMAT) if until else None,
        until_is_utc=bool(until and until.endswith("Z")),
        exdates=frozenset(exdates),
    )


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
    (INTERVAL=0 repeats one instant forever) or reports as a Python error.
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
    if parts.get("FREQ") not in _FREQ_UNITS:
        raise RRuleProblem(
            "Start the rule with FREQ=YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY or SECONDLY."
        )
    for name in ("INTERVAL", "COUNT"):
        value = parts.get(name, "1")
        if not value.isdigit() or int(value) < 1:
            raise RRuleProblem(f"{name} must be a whole number of 1 or more.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RRuleProblem("Use COUNT or UNTIL, not both.")
    if "UNTIL" in parts and not _UNTIL_VALUE.match(parts["UNTIL"]):
        raise RRuleProblem(
            "Write UNTIL as a date and time, in UTC (20251231T235959Z) or local time "
            "(20251231T235959)."
        )
    return parts


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
