"""Rules in words, for the admin, the calendar and the API."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor

from scheduling.recurrence.rrules import rrule_parts
from scheduling.recurrence.rules import CronRule, IntervalRule, OnceRule, RRuleRule, Rule


def rule_describe(*, rule: Rule, zone: ZoneInfo) -> str:
    """A phrase a person reads at a glance: "Every day at 09:00 (Europe/London)"."""
    return f"{_phrase(rule)} ({zone.key})"


def _phrase(rule: Rule) -> str:
    match rule:
        case OnceRule():
            return f"Once on {_date(rule.start)} at {_clock(rule.start)}"
        case IntervalRule():
            return _interval_phrase(rule)
        case CronRule():
            return _cron_phrase(rule.expression)
        case RRuleRule():
            return _rrule_phrase(rule)
        case _:
            assert_never(rule)


def _every(number: int, units: str) -> str:
    return f"Every {units.removesuffix('s')}" if number == 1 else f"Every {number} {units}"


def _interval_phrase(rule: IntervalRule) -> str:
    every = _every(rule.every, rule.unit)
    if rule.steps_in_real_time:
        return f"{every} from {_date(rule.start)} at {_clock(rule.start)}"
    if rule.unit == "days":
        phrase = f"{every} at {_clock(rule.start)}"
    elif rule.every == 1:
        phrase = f"Every {rule.start:%A} at {_clock(rule.start)}"
    else:
        phrase = f"{every} on {rule.start:%A} at {_clock(rule.start)}"
    # Every day or every Monday needs no start date; every 3 days needs one to say which.
    return phrase if rule.every == 1 else f"{phrase}, from {_date(rule.start)}"


_WEEKDAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
# Parts put into words below; a rule with any other keeps its own text in brackets.
_WORDED = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "COUNT", "UNTIL", "WKST"}


def _rrule_phrase(rule: RRuleRule) -> str:
    recurrence = rule.recurrence
    parts = rrule_parts(recurrence.line)
    phrase = _every(recurrence.interval, recurrence.unit)
    if "BYMONTH" in parts:
        phrase += " in " + _listed(_MONTHS[int(m) - 1] for m in parts["BYMONTH"].split(","))
    if "BYDAY" in parts:
        phrase += " on " + _listed(_weekday(day) for day in parts["BYDAY"].split(","))
    if "BYMONTHDAY" in parts:
        phrase += " on day " + _listed(parts["BYMONTHDAY"].split(","))
    if recurrence.unit not in ("hours", "minutes"):
        phrase += f" at {_clock(rule.start)}"
    phrase += f", from {_date(rule.start)}"
    if recurrence.count is not None:
        phrase += f", {recurrence.count} time" + ("" if recurrence.count == 1 else "s")
    if "UNTIL" in parts:
        phrase += f", until {_until(parts['UNTIL'])}"
    excluded = len(rule.exdates)
    if excluded:
        phrase += f", except on {excluded} date" + ("" if excluded == 1 else "s")
    if set(parts) - _WORDED:
        phrase += f" (rule: {recurrence.line})"
    return phrase


def _until(value: str) -> str:
    """RFC 5545 UNTIL (20261231T235900Z, or local without the Z) in words."""
    wall = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    return f"{_date(wall)} {_clock(wall)}" + (" UTC" if value.endswith("Z") else "")


def _weekday(day: str) -> str:
    ordinal, code = day[:-2], day[-2:]
    if not ordinal:
        return _WEEKDAYS[code]
    return f"the {_ORDINALS.get(int(ordinal), ordinal)} {_WEEKDAYS[code]}"


def _listed(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _cron_phrase(expression: str) -> str:
    # cron-descriptor knows L and W only in capitals (croniter takes either), and it
    # would otherwise pick its language and clock from the server's locale.
    descriptor = ExpressionDescriptor(
        expression.upper(), use_24hour_time_format=True, locale_code="en_US"
    )
    return descriptor.get_description()


def _date(wall: datetime) -> str:
    return f"{wall:%a} {wall.day} {wall:%b %Y}"


def _clock(wall: datetime) -> str:
    return f"{wall:%H:%M:%S}" if wall.second else f"{wall:%H:%M}"
