"""Schedules: set, change, pause, end, and skip or move one occurrence.

Locking rules: every change here locks the schedule row (`SELECT … FOR UPDATE`)
first. The dispatch tick claims due schedules with `FOR UPDATE SKIP LOCKED`, so a
change and a tick never interleave on one schedule: either the tick materialised
the occurrence before the change (and the change sees its jobs) or after it (and
the tick sees the changed schedule). Jobs already made are stopped only by
compare-and-set; one a worker has claimed is not taken back, and the caller is
told so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from accounts.timezones import utc_to_wall, wall_to_utc, zone_get
from posts.models import Post
from publishing.models import JobStatus, PublishJob
from publishing.networks.x.validation import x_identical_text_conflicts
from publishing.services import post_problems
from publishing.states import job_transition
from scheduling.limits import posting_limit_conflicts, posting_limit_next_fits
from scheduling.models import OccurrenceChange, Schedule
from scheduling.recurrence import rule_count_end, rule_from_fields
from scheduling.selectors import (
    schedule_first_from,
    schedule_occurrence_after,
    schedule_rule_occurs_at,
)

WAITING = (JobStatus.PENDING, JobStatus.QUEUED)


def schedule_set(
    *,
    post: Post,
    kind: str,
    local_date: date,
    local_time: time,
    timezone_name: str,
    actor,
    every: int | None = None,
    unit: str = "",
    cron: str = "",
    rrule: str = "",
    exdates: Sequence[datetime] = (),
    now: datetime | None = None,
) -> Schedule:
    """Schedule (or reschedule) a post: once, or by an interval, cron or RRULE rule.

    The rule is read in `timezone_name` on the wall clock (accounts/timezones.py
    says what happens to wall times a zone skips or repeats). Rescheduling
    cancels jobs of earlier occurrences that have not started; while one is
    running, it is refused.
    """
    now = now or timezone.now()
    start = datetime.combine(local_date, local_time)
    rule, zone = rule_from_fields(
        kind=kind,
        start=start,
        timezone=timezone_name,
        every=every,
        unit=unit,
        cron=cron,
        rrule=rrule,
        exdates=exdates,
    )
    problems = post_problems(post=post)
    if problems:
        raise ValidationError(problems)
    fields = {
        "kind": kind,
        "local_date": local_date,
        "local_time": local_time,
        "timezone": zone.key,  # a legacy alias is kept as the zone it names
        "every": every if kind == Schedule.Kind.INTERVAL else None,
        "unit": unit if kind == Schedule.Kind.INTERVAL else "",
        "cron": cron if kind == Schedule.Kind.CRON else "",
        "rrule": rrule if kind == Schedule.Kind.RRULE else "",
        "exdates": [d.isoformat() for d in exdates] if kind == Schedule.Kind.RRULE else [],
        "status": Schedule.Status.ACTIVE,
        "series_ends_at": rule_count_end(rule=rule, zone=zone),
    }
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        _jobs_not_started_cancel(post=post, now=now, reason="Replaced by a new schedule.")
        schedule = Schedule.objects.select_for_update().filter(post=post).first()
        if schedule is None:
            schedule = Schedule(post=post)
        else:
            schedule.changes.all().delete()
        for name, value in fields.items():
            setattr(schedule, name, value)
        first = schedule_first_from(schedule=schedule, now=now.replace(microsecond=0))
        if first is None:
            raise ValidationError({"local_time": _never_again(start, zone, kind, now)})
        _posting_limits_check(post=post, at=first, zone=zone)
        identical = x_identical_text_conflicts(post=post, at=first)
        if identical:
            raise ValidationError({"local_time": identical})
        schedule.next_occurrence_at = first
        schedule.save()
        from_status = post.status
        Post.objects.filter(pk=post.pk).update(status=Post.Status.SCHEDULED, updated_at=now)
        audit_record(
            workspace=post.workspace,
            actor=actor,
            action="post.scheduled",
            subject=post,
            from_status=from_status,
            to_status=Post.Status.SCHEDULED,
            data={
                "kind": kind,
                "local": f"{local_date:%Y-%m-%d} {local_time:%H:%M:%S}",
                "timezone": zone.key,
                "utc": first.isoformat(),
                **{key: fields[key] for key in ("every", "unit", "cron", "rrule") if fields[key]},
            },
        )
    return schedule


def schedule_once(
    *,
    post: Post,
    local_date: date,
    local_time: time,
    timezone_name: str,
    actor,
    now: datetime | None = None,
) -> Schedule:
    """Schedule a post to go out once, at a wall time in a zone."""
    return schedule_set(
        post=post,
        kind=Schedule.Kind.ONCE,
        local_date=local_date,
        local_time=local_time,
        timezone_name=timezone_name,
        actor=actor,
        now=now,
    )


def _never_again(start: datetime, zone, kind: str, now: datetime) -> str:
    local_now = utc_to_wall(now, zone)
    if kind == Schedule.Kind.ONCE:
        return (
            f"{start:%Y-%m-%d %H:%M} in {zone.key} has already passed (it is now "
            f"{local_now:%Y-%m-%d %H:%M} there). Choose a later time, or use “Publish now”."
        )
    return (
        f"This rule has no occurrence after now ({local_now:%Y-%m-%d %H:%M} in {zone.key}); "
        "move its start, COUNT or UNTIL."
    )


def _posting_limits_check(*, post: Post, at: datetime, zone) -> None:
    """Refuse a time that would break an account's posting limits, saying what fits."""
    problems = []
    for target in post.targets.select_related("account__posting_limit"):
        account = target.account
        conflicts = posting_limit_conflicts(account=account, at=at, exclude_post_id=post.pk)
        if not conflicts:
            continue
        fits = posting_limit_next_fits(account=account, at=at, count=3, exclude_post_id=post.pk)
        local = ", ".join(f"{utc_to_wall(fit, zone):%a %d %b %H:%M}" for fit in fits)
        problems += [*conflicts, f"{account} could post at {local} ({zone.key})."]
    if problems:
        raise ValidationError({"local_time": problems})


def _jobs_not_started_cancel(*, post: Post, now: datetime, reason: str) -> int:
    if PublishJob.objects.filter(post=post, status=JobStatus.RUNNING).exists():
        raise ValidationError(
            "The post is being published right now; wait for its outcome, then try again."
        )
    waiting = list(
        PublishJob.objects.filter(post=post, status__in=WAITING).values_list("pk", flat=True)
    )
    cancelled = job_transition(
        job_ids=waiting,
        from_statuses=WAITING,
        to_status=JobStatus.CANCELLED,
        now=now,
        lease_expires_at=None,
        error_message=reason,
    )
    if cancelled < len(waiting):
        # A worker claimed one of them between our read and our update.
        raise ValidationError(
            "The post started publishing just now; wait for its outcome, then try again."
        )
    return cancelled


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
