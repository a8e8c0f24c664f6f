"""The beat entries Kairos needs, kept in django-celery-beat's tables.

They are made (or brought in line with the settings) after every `migrate` and
whenever beat starts, so no operator creates them by hand, a changed
KAIROS_TICK_SECONDS takes effect at the next deploy, and an entry someone changed
or deleted is put back. Their names start with "kairos: "; the admin keeps them,
and the intervals they use, out of reach of edits (publishing/admin.py).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

KAIROS_PREFIX = "kairos: "
DISPATCH_TICK = "kairos: dispatch tick"
METRICS_COLLECT = "kairos: collect metrics"
X_TOKENS_REFRESH = "kairos: refresh expiring X tokens"
X_PROFILES_REFRESH = "kairos: refresh X profiles"
RETENTION_CLEANUP = "kairos: delete rows past their retention"
EVENTS_SWEEP = "kairos: send events the doorbell missed, and webhook retries"


def beat_entry_is_kairos(task: PeriodicTask) -> bool:
    return task.name.startswith(KAIROS_PREFIX)


def beat_intervals_of_kairos() -> set[int]:
    """The interval rows Kairos's entries run on: changing one would change them."""
    return set(
        PeriodicTask.objects.filter(name__startswith=KAIROS_PREFIX)
        .exclude(interval=None)
        .values_list("interval_id", flat=True)
    )


@transaction.atomic
def beat_entries_ensure() -> PeriodicTask:
    micros = round(settings.KAIROS_TICK_SECONDS * 1_000_000)
    if micros % 1_000_000 == 0:
        every, period = micros // 1_000_000, IntervalSchedule.SECONDS
    else:
        every, period = micros, IntervalSchedule.MICROSECONDS
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    task, _ = PeriodicTask.objects.update_or_create(
        name=DISPATCH_TICK,
        defaults={
            "task": "publishing.tasks.dispatch_tick",
            "interval": interval,
            "queue": "dispatch",
            # A tick that waited this long in the broker (workers were down) is
            # dropped: the next one does the same work with fresh data.
            "expire_seconds": max(5, round(settings.KAIROS_TICK_SECONDS * 5)),
            "enabled": True,
        },
    )
    every_minute, _ = IntervalSchedule.objects.get_or_create(
        every=60, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name=METRICS_COLLECT,
        defaults={
            "task": "analytics.tasks.metrics_collect",
            "interval": every_minute,
            # Due snapshots wait in the database; a run that missed its minute is dropped.
            "expire_seconds": 60,
            "enabled": True,
        },
    )
    for name, task_name, every in (
        # Tokens live two hours and are refreshed 15 minutes before they expire.
        (X_TOKENS_REFRESH, "accounts.tasks.x_tokens_refresh_expiring", timedelta(minutes=5)),
        (X_PROFILES_REFRESH, "accounts.tasks.x_profiles_refresh", timedelta(days=1)),
        (RETENTION_CLEANUP, "analytics.tasks.retention_cleanup", timedelta(days=1)),
        (
            EVENTS_SWEEP,
            "publishing.tasks.events_sweep",
            timedelta(seconds=settings.KAIROS_EVENTS_SWEEP_SECONDS),
        ),
    ):
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=int(every.total_seconds()), period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task_name,
                "interval": interval,
                # A run that waited past its interval is dropped; the next one does its work.
                "expire_seconds": int(every.total_seconds()),
                "enabled": True,
            },
        )
    return task
