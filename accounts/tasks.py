"""Celery's doorways into keeping accounts connected. Each calls a service and decides nothing."""

from celery import shared_task

from publishing import metrics
from publishing.networks.x import oauth, profile


@shared_task(name="accounts.tasks.x_tokens_refresh_expiring", ignore_result=True)
def x_tokens_refresh_expiring() -> int:
    refreshed = oauth.x_tokens_refresh_expiring()
    metrics.token_refreshes_observe(network="x", count=refreshed)
    return refreshed


@shared_task(name="accounts.tasks.x_profiles_refresh", ignore_result=True)
def x_profiles_refresh(account_ids: list[int] | None = None) -> int:
    return profile.x_profiles_refresh_stale(account_ids=account_ids)
