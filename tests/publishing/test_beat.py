import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from publishing.beat import DISPATCH_TICK, beat_entries_ensure

pytestmark = pytest.mark.django_db


def test_migrate_leaves_one_dispatch_tick_entry():
    # The test database was built by `migrate`, whose post_migrate hook made it.
    task = PeriodicTask.objects.get(name=DISPATCH_TICK)
    assert task.task == "publishing.tasks.dispatch_tick"
    assert (task.interval.every, task.interval.period) == (1, IntervalSchedule.SECONDS)
    assert task.queue == "dispatch"
    assert task.expire_seconds == 5


def test_a_fractional_tick_uses_microseconds_and_updates_in_place(settings):
    settings.KAIROS_TICK_SECONDS = 0.25
    beat_entries_ensure()
    beat_entries_ensure()
    task = PeriodicTask.objects.get(name=DISPATCH_TICK)
    assert (task.interval.every, task.interval.period) == (250_000, IntervalSchedule.MICROSECONDS)
    assert task.interval.schedule.run_every.total_seconds() == 0.25
    assert PeriodicTask.objects.filter(task="publishing.tasks.dispatch_tick").count() == 1
