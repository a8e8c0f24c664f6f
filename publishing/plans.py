"""Setting a post's plan: its schedule, checked against everything already planned and made.

Scheduling a post is where plans meet jobs: the post must be publishable, a new
schedule replaces the jobs of earlier occurrences that have not started (and is
refused while one is running), and its first occurrence must keep the accounts'
posting limits and not repeat another account's words where the network forbids
it. The schedule itself (the rule, its zone, its next occurrence) is scheduling's.

Locking rules: the post row is locked (`SELECT … FOR UPDATE`), then the schedule
row. The dispatch tick claims due schedules with `FOR UPDATE SKIP LOCKED`, so a
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
from accounts.timezones import utc_to_wall, zone_canonical_name, zone_get
from posts.models import Post
from publishing.crosspost import post_identical_text_conflicts
from publishing.limits import posting_limit_conflicts, posting_limit_next_fits
from publishing.models import JobStatus, PublishJob
from publishing.services import post_cancel, post_problems, post_republish_check
from publishing.states import job_transition
from scheduling.models import Schedule
from scheduling.recurrence import rule_count_end, rule_from_fields
from scheduling.selectors import schedule_first_from
from scheduling.services import schedule_occurrence_move

WAITING = (JobStatus.PENDING, JobStatus.QUEUED)


def schedule_date_time_problems(*, has_date: bool, has_time: bool) -> dict[str, str]:
    """A post is scheduled with both a date and a time, or kept a draft with neither:
    the one missing, by its schedule field, for the composer and the import alike."""
    if has_date == has_time:
        return {}
    missing = "local_time" if has_date else "local_date"
    return {
        missing: "Give both a date and a time to schedule the post, or neither to keep a draft."
    }


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
    republish: bool = False,
) -> Schedule:
    """Schedule (or reschedule) a post: once, or by an interval, cron or RRULE rule.

    The rule is read in `timezone_name` (empty: the workspace's zone) on the wall
    clock (accounts/timezones.py says what happens to wall times a zone skips or
    repeats). Rescheduling
    cancels jobs of earlier occurrences that have not started; while one is
    running, it is refused. A finished post is scheduled again only with
    `republish` (services.post_republish_check).
    """
    now = now or timezone.now()
    post_republish_check(post=post, confirmed=republish)
    try:
        timezone_name = zone_canonical_name(timezone_name or post.workspace.default_timezone)
    except ValidationError as refusal:
        raise ValidationError({"timezone": refusal.messages}) from None
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
        identical = post_identical_text_conflicts(post=post, at=first)
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


def post_occurrence_reschedule(
    *, post: Post, occurrence_at: datetime, to: datetime, actor, now: datetime | None = None
) -> Schedule:
    """Move one occurrence of a post to the instant `to` (UTC), as a drag on the calendar.

    A one-off post is scheduled again at the new time (`schedule_set`: it cancels its
    jobs that have not started and checks limits); one occurrence of a recurring post
    is moved (`schedule_occurrence_move`), the rest of the series is left as it is.
    Either way the new time is kept as a wall time in the post's own zone. An
    occurrence whose job has started or finished is refused with what became of it;
    the services refuse again, under their locks, one that starts meanwhile.
    """
    now = now or timezone.now()
    schedule = Schedule.objects.filter(post=post).first()
    if schedule is None:
        raise ValidationError("The post has no schedule; schedule it on its page first.")
    _started_refuse(post=post, occurrence_at=occurrence_at)
    wall = utc_to_wall(to, zone_get(schedule.timezone))
    if schedule.kind == Schedule.Kind.ONCE:
        return schedule_set(
            post=post,
            kind=Schedule.Kind.ONCE,
            local_date=wall.date(),
            local_time=wall.time(),
            timezone_name=schedule.timezone,
            actor=actor,
            now=now,
        )
    return schedule_occurrence_move(
        schedule=schedule,
        occurrence_at=occurrence_at,
        local_date=wall.date(),
        local_time=wall.time(),
        actor=actor,
        now=now,
    )


def _started_refuse(*, post: Post, occurrence_at: datetime) -> None:
    jobs = PublishJob.objects.filter(post=post, occurrence_at=occurrence_at).exclude(
        status__in=(*WAITING, JobStatus.CANCELLED)
    )
    job = jobs.select_related("account").first()
    if job is None:
        return
    if job.status == JobStatus.RUNNING:
        raise ValidationError(
            f"It is being published to {job.account} right now; wait for its outcome."
        )
    raise ValidationError(
        f"It is already {job.get_status_display().lower()} on {job.account}; "
        "a post that went out (or stopped) is not moved."
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


@transaction.atomic
def post_soft_delete(*, post: Post, actor, now: datetime | None = None) -> None:
    """Hide the post and stop whatever of it has not started; it can be restored."""
    now = now or timezone.now()
    post_cancel(post=post, actor=actor, now=now)
    Post.objects.filter(pk=post.pk).update(deleted_at=now, updated_at=now)
    audit_record(workspace=post.workspace, actor=actor, action="post.deleted", subject=post)
