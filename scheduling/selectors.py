from __future__ import annotations

from datetime import datetime

from scheduling.models import Schedule


def schedule_occurrence_after(*, schedule: Schedule, after: datetime) -> datetime | None:
    """The schedule's first occurrence strictly after `after`, or None when it has ended."""
    if schedule.kind == Schedule.Kind.ONCE:
        start = schedule.start_utc
        return start if start > after else None
    raise NotImplementedError(f"schedule kind {schedule.kind!r}")
