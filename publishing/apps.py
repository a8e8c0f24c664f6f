from celery.signals import beat_init
from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _beat_entries_ensure(**kwargs) -> None:
    from publishing.beat import beat_entries_ensure

    beat_entries_ensure()


def _beat_entries_ensure_on_start(**kwargs) -> None:
    from django.conf import settings

    # Off only for a beat that is not Kairos's: the benchmark's naive baseline.
    if settings.KAIROS_BEAT_KEEPS_ENTRIES:
        _beat_entries_ensure()


class PublishingConfig(AppConfig):
    name = "publishing"

    def ready(self) -> None:
        post_migrate.connect(_beat_entries_ensure, sender=self)
        # An entry changed or deleted by hand is put back before beat reads its schedule.
        beat_init.connect(_beat_entries_ensure_on_start, weak=False)
