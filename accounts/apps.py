from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def _cache_table_after_migrate(*, using: str, **kwargs) -> None:
    # The default cache lives in a database table (settings.CACHES), which is no
    # model, so `migrate` alone would not make it. Making it is idempotent.
    call_command("createcachetable", database=using, verbosity=0)


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        post_migrate.connect(_cache_table_after_migrate, sender=self)
