"""Celery's doorways into keeping accounts connected. Each calls a service and decides nothing.

The task names keep their first (X-only) spelling: beat entries and messages in
flight name them.
"""

from celery import shared_task

from publishing import upkeep


@shared_task(name="accounts.tasks.x_tokens_refresh_expiring", ignore_result=True)
def x_tokens_refresh_expiring() -> int:
    return upkeep.social_accounts_credentials_refresh_expiring()


@shared_task(name="accounts.tasks.x_profiles_refresh", ignore_result=True)
def x_profiles_refresh(account_ids: list[int] | None = None) -> int:
    return upkeep.social_accounts_profiles_refresh_stale(account_ids=account_ids)
