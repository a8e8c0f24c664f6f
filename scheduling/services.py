from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.services import audit_record
from posts.models import Post
from publishing.models import JobStatus, PublishJob
from publishing.services import post_problems
from publishing.states import job_transition
from scheduling.models import Schedule
from scheduling.timezones import wall_to_utc, zone_get


def schedule_once(
    *,
    post: Post,
    local_date: date,
    local_time: time,
    timezone_name: str,
    actor,
    now: datetime | None = None,
) -> Schedule:
    """Schedule (or reschedule) a post to go out once, at a wall time in a zone.

    Rescheduling cancels the jobs of an earlier occurrence that have not started.
    One already running cannot be taken back, so rescheduling then is refused.
    """
    now = now or timezone.now()
    try:
        zone = zone_get(timezone_name)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from None
    instant = wall_to_utc(datetime.combine(local_date, local_time), zone)
    if instant < now.replace(microsecond=0):
        local_now = timezone.localtime(now, zone)
        raise ValidationError(
            {
                "local_time": (
                    f"{local_date:%Y-%m-%d} {local_time:%H:%M} in {timezone_name} has already "
                    f"passed (it is now {local_now:%Y-%m-%d %H:%M} there). Choose a later "
                    "time, or use “Publish now”."
                )
            }
        )
    problems = post_problems(post=post)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if PublishJob.objects.filter(post=post, status=JobStatus.RUNNING).exists():
            raise ValidationError(
                "The post is being published right now; wait for its outcome before "
                "rescheduling it."
            )
        waiting = list(
            PublishJob.objects.filter(
                post=post, status__in=[JobStatus.PENDING, JobStatus.QUEUED]
            ).values_list("pk", flat=True)
        )
        cancelled = job_transition(
            job_ids=waiting,
            from_statuses=[JobStatus.PENDING, JobStatus.QUEUED],
            to_status=JobStatus.CANCELLED,
            now=now,
            lease_expires_at=None,
            error_message="Replaced by a new schedule.",
        )
        if cancelled < len(waiting):
            # A worker claimed one of them between our read and our update.
            raise ValidationError(
                "The post started publishing just now; wait for its outcome before rescheduling it."
            )
        schedule, _ = Schedule.objects.update_or_create(
            post=post,
            defaults={
                "kind": Schedule.Kind.ONCE,
                "local_date": local_date,
                "local_time": local_time,
                "timezone": timezone_name,
                "status": Schedule.Status.ACTIVE,
                "next_occurrence_at": instant,
            },
        )
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
                "local": f"{local_date:%Y-%m-%d} {local_time:%H:%M:%S}",
                "timezone": timezone_name,
                "utc": instant.isoformat(),
            },
        )
    return schedule
