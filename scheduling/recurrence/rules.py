"""The kinds of schedule rule, as values that cannot be built wrong.

A rule holds what a person typed: local wall times (naive datetimes) and a pattern.
The zone is not part of the rule; it is passed in wherever a rule is evaluated.
Building a rule checks its shape and raises ValidationError keyed by the field to
fix; whether the rule ever occurs is `rule_validate`'s question, because an RRULE's
UNTIL given in UTC depends on the zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from accounts.timezones import zone_get
from scheduling.recurrence.cron import cron_first_wall, cron_problems
from scheduling.recurrence.rrules import YEARS_ACCEPTED, Recurrence, RRuleProblem, rrule_parse

IntervalUnit = Literal["minutes", "hours", "days", "weeks"]
INTERVAL_UNITS: tuple[IntervalUnit, ...] = get_args(IntervalUnit)
# The longest step of an interval in each unit: ten years between posts.
MAX_EVERY: dict[IntervalUnit, int] = {
    "minutes": 5_259_600,
    "hours": 87_660,
    "days": 3_652,
    "weeks": 521,
}
RuleKind = Literal["once", "interval", "cron", "rrule"]
RULE_KINDS: tuple[RuleKind, ...] = get_args(RuleKind)


@dataclass(frozen=True)
class OnceRule:
    """One post at the wall time `start`."""

    start: datetime

    def __post_init__(self) -> None:
        _raise_problems({"start": _wall_time_problems(self.start)})


@dataclass(frozen=True)
class IntervalRule:
    """From `start`, every `every` `unit`s.

    Minutes and hours step in real time: every 90 minutes is 90 minutes apart, also
    across a DST change. Days and weeks step on the local calendar: every day at
    09:00 stays at 09:00 when the clocks change.
    """

    start: datetime
    every: int
    unit: IntervalUnit

    def __post_init__(self) -> None:
        _raise_problems(
            {
                "start": _wall_time_problems(self.start),
                "every": _every_problems(self.every, self.unit),
                "unit": _unit_problems(self.unit),
            }
        )

    @property
    def steps_in_real_time(self) -> bool:
        return self.unit in ("minutes", "hours")


@dataclass(frozen=True)
class CronRule:
    """The local wall times from `start` on that match a 5-field cron `expression`."""

    expression: str
    start: datetime

    def __post_init__(self) -> None:
        _raise_problems(
            {
                "start": _wall_time_problems(self.start),
                "cron": cron_problems(self.expression),
            }
        )


@dataclass(frozen=True)
class RRuleRule:
    """An RFC 5545 RRULE line with DTSTART `start`, less the wall times in `exdates`."""

    rule: str
    start: datetime
    exdates: tuple[datetime, ...] = ()
    # The instant of its COUNT-th occurrence in the zone it is used in, if counted before.
    count_ends_at: datetime | None = None
    recurrence: Recurrence = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _raise_problems(
            {
                "start": _wall_time_problems(self.start),
                "exdates": [issue for wall in self.exdates for issue in _wall_time_problems(wall)],
            }
        )
        try:
            recurrence = rrule_parse(
                self.rule,
                start=self.start,
                exdates=self.exdates,
                count_ends_at=self.count_ends_at,
            )
        except RRuleProblem as exc:
            raise ValidationError({"rrule": str(exc)}) from exc
        # The parse is part of building the rule, so it is set once, here.
        object.__setattr__(self, "recurrence", recurrence)


Rule = OnceRule | IntervalRule | CronRule | RRuleRule


def rule_validate(*, rule: Rule, zone: ZoneInfo) -> None:
    """Raise ValidationError, keyed by field, if `rule` never occurs in `zone`."""
    match rule:
        case CronRule() if cron_first_wall(rule.expression, start=rule.start) is None:
            raise ValidationError(
                {
                    "cron": "This expression never matches a date (there is no 30 February); "
                    "change the day-of-month or month field."
                }
            )
        case RRuleRule() if rule.recurrence.first_instant(zone=zone) is None:
            raise ValidationError(
                {
                    "rrule": "This rule has no date in the ten years after its start, once the "
                    "excluded dates are left out; check that its parts can meet (there is no "
                    "30 February) and that UNTIL or COUNT leave room for one."
                }
            )


def rule_from_fields(
    *,
    kind: str,
    start: datetime,
    timezone: str,
    every: int | None = None,
    unit: str = "",
    cron: str = "",
    rrule: str = "",
    exdates: Sequence[datetime] = (),
    count_ends_at: datetime | None = None,
) -> tuple[Rule, ZoneInfo]:
    """The rule and zone a person entered, or one ValidationError naming every field to fix.

    Only the fields of the chosen `kind` are read: `every` and `unit` for "interval",
    `cron` for "cron", `rrule` and `exdates` for "rrule", and `count_ends_at` (what
    `rule_count_end` answered for this rule and zone) when there is one.
    """
    errors: dict[str, list[str]] = {}
    try:
        zone = zone_get(timezone)
    except ValidationError as exc:
        errors["timezone"] = exc.messages
    try:
        rule = _rule_build(
            kind=kind,
            start=start,
            every=every,
            unit=unit,
            cron=cron,
            rrule=rrule,
            exdates=exdates,
            count_ends_at=count_ends_at,
        )
        if not errors:
            rule_validate(rule=rule, zone=zone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return rule, zone


def _rule_build(
    *,
    kind: str,
    start: datetime,
    every: int | None,
    unit: str,
    cron: str,
    rrule: str,
    exdates: Sequence[datetime],
    count_ends_at: datetime | None,
) -> Rule:
    match kind:
        case "once":
            return OnceRule(start=start)
        case "interval":
            return IntervalRule(start=start, every=every, unit=unit)
        case "cron":
            return CronRule(expression=cron, start=start)
        case "rrule":
            return RRuleRule(
                rule=rrule, start=start, exdates=tuple(exdates), count_ends_at=count_ends_at
            )
    raise ValidationError(
        {"kind": f"“{kind}” is not a kind of schedule; choose {_choices(RULE_KINDS)}."}
    )


def _raise_problems(problems: dict[str, list[str]]) -> None:
    found = {name: messages for name, messages in problems.items() if messages}
    if found:
        raise ValidationError(found)


def _wall_time_problems(value: object) -> list[str]:
    if not isinstance(value, datetime):
        return ["Enter a date and time."]
    if value.tzinfo is not None:
        return [
            "Enter the local date and time without a UTC offset; the time zone says where it is."
        ]
    if value.year not in YEARS_ACCEPTED:
        return [f"Enter a date from {YEARS_ACCEPTED[0]} to {YEARS_ACCEPTED[-1]}."]
    return []


def _every_problems(every: object, unit: object) -> list[str]:
    if isinstance(every, bool) or not isinstance(every, int):
        return ["Enter a whole number, such as 2."]
    if every < 1:
        return [f"Enter 1 or more; every {every} would never move on."]
    most = MAX_EVERY.get(unit)  # type: ignore[call-overload]
    if most is not None and every > most:
        return [
            f"Every {every:,} {unit} is more than ten years between posts; enter at most {most:,}."
        ]
    return []


def _unit_problems(unit: object) -> list[str]:
    if unit not in INTERVAL_UNITS:
        return [f"“{unit}” is not a unit; choose {_choices(INTERVAL_UNITS)}."]
    return []


def _choices(names: Sequence[str]) -> str:
    return f"{', '.join(names[:-1])} or {names[-1]}"
