"""The beat entries Kairos needs, kept in django-celery-beat's tables.

They are made (or brought in line with the settings) after every `migrate`, so
no operator creates them by hand and a changed KAIROS_TICK_SECONDS takes effect
at the next deploy.
"""

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

DISPATCH_TICK = "kairos: dispatch tick"


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
    return task
