import pytest
from celery.signals import beat_init
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts.models import Membership
from publishing.beat import DISPATCH_TICK, METRICS_COLLECT, beat_entries_ensure
from tests.factories import MembershipFactory, UserFactory

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


# --- Out of reach in the admin, and put back on start ----------------------------------


def test_staff_who_are_not_superusers_never_see_beats_tables(client):
    owner = MembershipFactory(role=Membership.Role.OWNER, user=UserFactory(is_superuser=False))
    client.force_login(owner.user)
    for name in ("periodictask", "intervalschedule", "crontabschedule", "clockedschedule"):
        url = reverse(f"admin:django_celery_beat_{name}_changelist")
        assert client.get(url).status_code == 403
    assert "django_celery_beat" not in client.get(reverse("admin:index")).content.decode()


def test_kairos_entries_and_their_intervals_are_read_only_even_for_superusers(admin_client):
    tick = PeriodicTask.objects.get(name=DISPATCH_TICK)
    page = admin_client.get(reverse("admin:django_celery_beat_periodictask_change", args=[tick.pk]))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert not page.context["has_delete_permission"]
    interval = reverse("admin:django_celery_beat_intervalschedule_change", args=[tick.interval_id])
    assert not admin_client.get(interval).context["has_change_permission"]
    own = PeriodicTask.objects.create(name="mine", task="x", interval=tick.interval, enabled=True)
    admin_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "disable_tasks", "_selected_action": [tick.pk, own.pk]},
    )
    tick.refresh_from_db()
    own.refresh_from_db()
    assert (tick.enabled, own.enabled) == (True, False)


def test_beat_starting_puts_back_an_entry_changed_or_deleted_by_hand():
    PeriodicTask.objects.filter(name=DISPATCH_TICK).update(enabled=False)
    PeriodicTask.objects.filter(name=METRICS_COLLECT).delete()
    beat_init.send(sender=None)
    assert PeriodicTask.objects.get(name=DISPATCH_TICK).enabled
    assert PeriodicTask.objects.filter(name=METRICS_COLLECT).exists()


def test_a_beat_that_is_not_kaiross_leaves_the_entries_as_they_are(settings):
    settings.KAIROS_BEAT_KEEPS_ENTRIES = False
    PeriodicTask.objects.filter(name=DISPATCH_TICK).update(enabled=False)
    beat_init.send(sender=None)
    assert not PeriodicTask.objects.get(name=DISPATCH_TICK).enabled
