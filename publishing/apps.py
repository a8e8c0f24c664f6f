from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _beat_entries_after_migrate(**kwargs) -> None:
    from publishing.beat import beat_entries_ensure

    beat_entries_ensure()


class PublishingConfig(AppConfig):
    name = "publishing"

    def ready(self) -> None:
        post_migrate.connect(_beat_entries_after_migrate, sender=self)
