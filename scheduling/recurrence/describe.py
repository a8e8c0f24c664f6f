"""Rules in words, for the admin, the calendar and the API."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor

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


def _rrule_phrase(rule: RRuleRule) -> str:
    # dateutil cannot put a rule into words; the period and the rule itself can.
    recurrence = rule.recurrence
    phrase = (
        f"{_every(recurrence.interval, recurrence.unit)} by the rule {recurrence.line}, "
        f"from {_date(rule.start)} at {_clock(rule.start)}"
    )
    excluded = len(rule.exdates)
    if excluded:
        phrase += f", except on {excluded} date" + ("" if excluded == 1 else "s")
    return phrase


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
