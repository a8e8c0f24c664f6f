"""Cron expressions, matched by croniter against local wall times.

croniter is handed naive datetimes only. Without a zone it steps through a plain
calendar (every day has 24 hours), which is exactly the local wall clock a person
reads; turning those wall times into instants, with Kairos's gap and overlap rule,
happens afterwards in `wall_to_utc`. Handing croniter an aware datetime instead would
bring its own DST handling, which moves a gap time by a different amount and can
fire a fall-back time twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import CroniterBadDateError, croniter

CRON_EXAMPLE = "0 9 * * 1-5"


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    cycle: int  # how many distinct values the field has
    name_example: str = ""

    @property
    def span(self) -> str:
        return f"{self.low}\N{EN DASH}{self.high}"


_FIELDS = (
    _Field("minute", 0, 59, cycle=60),
    _Field("hour", 0, 23, cycle=24),
    _Field("day-of-month", 1, 31, cycle=31),
    _Field("month", 1, 12, cycle=12, name_example="MAR"),
    # croniter reads both 0 and 7 as Sunday.
    _Field("day-of-week", 0, 7, cycle=7, name_example="MON"),
)

_RANDOM_OR_HASHED = re.compile(r"^[rh](\(.*\))?(/.*)?$", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")


def cron_problems(expression: str) -> list[str]:
    """What is wrong with `expression`, said so that a person can fix it; empty if nothing."""
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        return [
            "A cron expression has 5 fields (minute hour day-of-month month day-of-week), "
            f"for example “{CRON_EXAMPLE}”; this one has {len(fields)}."
        ]
    problems = [
        _field_problem(field, text)
        for field, text in zip(_FIELDS, fields, strict=True)
        if not _field_accepted(field, text)
    ]
    if not problems and not croniter.is_valid(expression):
        problems.append(f"This expression is not valid; write it like “{CRON_EXAMPLE}”.")
    return problems


def cron_first_wall(expression: str, *, start: datetime) -> datetime | None:
    """The first wall time from `start` that matches `expression`, or None if none ever does."""
    return next(cron_walls(expression, start=start, seek=start), None)


def cron_walls(expression: str, *, start: datetime, seek: datetime) -> Iterator[datetime]:
    """The local wall times matching `expression`, in order, from `start` on.

    Iteration begins near `seek` (a wall time at or after which the caller is
    interested) instead of at `start`, so a schedule that began years ago costs the
    same as one that began today.
    """
    # croniter returns the first match strictly after the minute it is given.
    matcher = croniter(expression, max(start, seek) - timedelta(minutes=1), ret_type=datetime)
    while True:
        try:
            wall = matcher.get_next()
        except CroniterBadDateError:
            return  # croniter found no match within 50 years: the expression is spent
        if wall >= start:
            yield wall


def _field_accepted(field: _Field, text: str) -> bool:
    """Whether `text` is usable as `field`: croniter accepts it (every other field left
    as `*`) and no part of it is random, hashed or a step past the whole field."""
    if any(_unpredictable(token) or _step_too_long(field, token) for token in text.split(",")):
        return False
    probe = ["*"] * len(_FIELDS)
    probe[_FIELDS.index(field)] = text
    return croniter.is_valid(" ".join(probe))


def _unpredictable(token: str) -> bool:
    # croniter's R (random) and H (hashed) values pick a different time per process or
    # per id; a schedule has to mean the same time to everyone who reads it.
    return bool(_RANDOM_OR_HASHED.match(token))


def _step_too_long(field: _Field, token: str) -> bool:
    # croniter reads "*/90" in the minute field as minute 0 alone, while a reader (and
    # cron-descriptor) would take it for every 90 minutes; refuse it rather than guess.
    step = token.partition("/")[2]
    return step.isdigit() and int(step) >= field.cycle


def _field_problem(field: _Field, text: str) -> str:
    rejected = [token for token in text.split(",") if not _field_accepted(field, token)]
    return _token_problem(field, rejected[0] if rejected else text)


def _token_problem(field: _Field, token: str) -> str:
    """Why `token` was refused, in words; croniter itself only names the whole expression."""
    if not token:
        return f"{field.name} field: there is an empty item in the list; remove the extra comma."
    if _unpredictable(token):
        return (
            f"{field.name} field: random (R) and hashed (H) values are not supported; "
            "write the value itself."
        )
    values, _, step = token.partition("/")
    # The numbers that name values: not the step after "/", not the nth after "#".
    for number in _NUMBER.findall(values.partition("#")[0]):
        if not field.low <= int(number) <= field.high:
            return f"{field.name} field: {number} is out of range {field.span}."
    if step.isdigit() and int(step) == 0:
        return f"{field.name} field: a step of 0 never moves on; use 1 or more, as in */5."
    if _step_too_long(field, token):
        return (
            f"{field.name} field: a step of {step} goes past the whole field "
            f"({field.span}), so it would fire once; use a smaller step, or an "
            "interval schedule for longer repeats."
        )
    name = f" or a name such as {field.name_example}" if field.name_example else ""
    return (
        f"{field.name} field: “{token}” is not valid; use a number ({field.span}){name}, "
        "a range (1-5), a list (1,15) or a step (*/10)."
    )
