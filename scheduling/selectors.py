from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count

from scheduling.models import Schedule
from scheduling.recurrence import occurrence_next, occurrences_next, rule_describe

_TICK = timedelta(microseconds=1)


def schedule_occurrence_after(*, schedule: Schedule, after: datetime) -> datetime | None:
    """The schedule's first occurrence strictly after `after`, or None when it has ended.

    The rule's occurrences, less those staff skipped or moved, plus where moved ones
    went. Reads `schedule.changes` (prefetch it when asking for many schedules).
    """
    saved_changes = schedule.changes.all() if schedule.pk else ()
    changes = {change.original_at: change.moved_to for change in saved_changes}
    rule, zone = schedule.rule, schedule.zone
    # At most len(changes) occurrences in a row can be taken out, so one more is enough.
    from_rule = next(
        (
            instant
            for instant in occurrences_next(
                rule=rule, zone=zone, after_utc=after, count=len(changes) + 1
            )
            if instant not in changes
        ),
        None,
    )
    moved = [moved_to for moved_to in changes.values() if moved_to and moved_to > after]
    candidates = [instant for instant in (from_rule, *moved) if instant is not None]
    return min(candidates, default=None)


def schedule_upcoming(*, schedule: Schedule, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` occurrences after `after`, as the dispatch will see them."""
    upcoming: list[datetime] = []
    cursor = after
    while len(upcoming) < count:
        instant = schedule_occurrence_after(schedule=schedule, after=cursor)
        if instant is None:
            break
        upcoming.append(instant)
        cursor = instant
    return upcoming


def schedule_first_from(*, schedule: Schedule, now: datetime) -> datetime | None:
    """The first occurrence at or after `now`."""
    return schedule_occurrence_after(schedule=schedule, after=now - _TICK)


def schedule_rule_occurs_at(*, schedule: Schedule, instant: datetime) -> bool:
    """Whether the rule itself (before any skip or move) has an occurrence at `instant`."""
    return (
        occurrence_next(rule=schedule.rule, zone=schedule.zone, after_utc=instant - _TICK)
        == instant
    )


def schedule_describe(*, schedule: Schedule) -> str:
    return rule_describe(rule=schedule.rule, zone=schedule.zone)


def schedule_summary(*, schedule: Schedule, now: datetime, count: int = 5) -> dict:
    """What a person needs to trust a schedule: the rule in words, its zone, its start,
    and the next occurrences in local time and UTC."""
    zone = schedule.zone
    upcoming = (
        schedule_upcoming(schedule=schedule, after=now, count=count)
        if schedule.status in (Schedule.Status.ACTIVE, Schedule.Status.PAUSED)
        else []
    )
    return {
        "description": schedule_describe(schedule=schedule),
        "timezone": schedule.timezone,
        "status": schedule.status,
        "start_local": schedule.start_wall,
        "next": [{"local": instant.astimezone(zone), "utc": instant} for instant in upcoming],
    }


def schedule_zones_most_used(*, workspaces, limit: int = 5) -> list[str]:
    """The zones the schedules of `workspaces` use most, most used first."""
    return list(
        Schedule.objects.filter(post__workspace__in=workspaces)
        .values("timezone")
        .annotate(uses=Count("id"))
        .order_by("-uses", "timezone")
        .values_list("timezone", flat=True)[:limit]
    )
