"""Schedules: pause, resume, end, and skip or move one occurrence.

Setting a post's schedule weighs it against jobs and other plans (posting limits,
the same text elsewhere, jobs to replace), so it is publishing's: see
publishing/plans.py.

Locking rules: every change here locks the schedule row (`SELECT … FOR UPDATE`)
first. The dispatch tick claims due schedules with `FOR UPDATE SKIP LOCKED`, so a
change and a tick never interleave on one schedule: either the tick materialised
the occurrence before the change (and the change sees its jobs) or after it (and
the tick sees the changed schedule). Jobs already made are stopped only by
compare-and-set; one a worker has claimed is not taken back, and the caller is
told so.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from accounts.timezones import wall_to_utc, zone_get
from scheduling.models import OccurrenceChange, Schedule
from scheduling.selectors import (
    schedule_first_from,
    schedule_occurrence_after,
    schedule_rule_occurs_at,
)


def _locked(schedule: Schedule) -> Schedule:
    return (
        Schedule.objects.select_for_update().select_related("post__workspace").get(pk=schedule.pk)
    )


def _audit(schedule: Schedule, *, actor, action: str, **kwargs) -> None:
    audit_record(
        workspace=schedule.post.workspace,
        actor=actor,
        action=action,
        subject=schedule,
        **kwargs,
    )


def schedule_pause(*, schedule: Schedule, actor, now: datetime | None = None) -> bool:
    """Stop materialising occurrences until resumed; False if it was not active."""
    now = now or timezone.now()
    with transaction.atomic():
        paused = Schedule.objects.filter(pk=schedule.pk, status=Schedule.Status.ACTIVE).update(
            status=Schedule.Status.PAUSED, updated_at=now
        )
        if paused:
            _audit(schedule, actor=actor, action="schedule.paused", to_status="paused")
    return bool(paused)


def schedule_resume(*, schedule: Schedule, actor, now: datetime | None = None) -> bool:
    """Carry on from now: occurrences that fell in the pause are not made up for."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = _locked(schedule)
        if schedule.status != Schedule.Status.PAUSED:
            return False
        schedule.next_occurrence_at = schedule_first_from(schedule=schedule, now=now)
        schedule.status = (
            Schedule.Status.ACTIVE if schedule.next_occurrence_at else Schedule.Status.FINISHED
        )
        schedule.save(update_fields=["status", "next_occurrence_at", "updated_at"])
        _audit(schedule, actor=actor, action="schedule.resumed", to_status=schedule.status)
    return True


def schedule_end(*, schedule: Schedule, actor, now: datetime | None = None) -> None:
    """End a series: no occurrence after now. What already went out stays."""
    now = now or timezone.now()
    with transaction.atomic():
        schedule = _locked(schedule)
        from_status = schedule.status
        schedule.status = Schedule.Status.FINISHED
        schedule.next_occurrence_at = None
        schedule.save(update_fields=["status", "next_occurrence_at", "updated_at"])
        _audit(
            schedule,
            actor=actor,
            action="schedule.ended",
            from_status=from_status,
            to_status=schedule.status,
        )


def _occurrence_change(
    *, schedule: Schedule, occurrence_at: datetime, moved_to: datetime | None, actor, now
) -> Schedule:
    with transaction.atomic():
        schedule = _locked(schedule)
        if schedule.kind == Schedule.Kind.ONCE:
            raise ValidationError("A one-off post is rescheduled or cancelled, not skipped.")
        if occurrence_at <= now or not schedule_rule_occurs_at(
            schedule=schedule, instant=occurrence_at
        ):
            raise ValidationError(
                {"occurrence_at": "That is not an upcoming occurrence of this schedule."}
            )
        if moved_to is not None and moved_to <= now:
            raise ValidationError({"moved_to": "Move the occurrence to a time still ahead."})
        OccurrenceChange.objects.update_or_create(
            schedule=schedule, original_at=occurrence_at, defaults={"moved_to": moved_to}
        )
        if schedule.status == Schedule.Status.ACTIVE:
            # The tick has not reached it (we hold the row), so the next one is recomputed.
            schedule.next_occurrence_at = schedule_occurrence_after(schedule=schedule, after=now)
            schedule.save(update_fields=["next_occurrence_at", "updated_at"])
        _audit(
            schedule,
            actor=actor,
            action="schedule.occurrence_moved" if moved_to else "schedule.occurrence_skipped",
            data={
                "occurrence_at": occurrence_at.isoformat(),
                "moved_to": moved_to.isoformat() if moved_to else None,
            },
        )
    return schedule


def schedule_occurrence_skip(
    *, schedule: Schedule, occurrence_at: datetime, actor, now: datetime | None = None
) -> Schedule:
    """Leave out one upcoming occurrence of a recurring schedule."""
    return _occurrence_change(
        schedule=schedule,
        occurrence_at=occurrence_at,
        moved_to=None,
        actor=actor,
        now=now or timezone.now(),
    )


def schedule_occurrence_move(
    *,
    schedule: Schedule,
    occurrence_at: datetime,
    local_date: date,
    local_time: time,
    actor,
    now: datetime | None = None,
) -> Schedule:
    """Move one upcoming occurrence to another wall time in the schedule's zone."""
    moved_to = wall_to_utc(datetime.combine(local_date, local_time), zone_get(schedule.timezone))
    return _occurrence_change(
        schedule=schedule,
        occurrence_at=occurrence_at,
        moved_to=moved_to,
        actor=actor,
        now=now or timezone.now(),
    )
