"""Keeping connected accounts usable: sign-ins renewed before they lapse, profiles current.

Run by periodic tasks (accounts.tasks), and for one account when staff look at it.
Each network's part (the renewal, the profile call) is its adapter's, reached through
the registry.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from django.utils import timezone

from accounts.models import SocialAccount
from accounts.selectors import social_accounts_profile_stale
from accounts.services import social_account_profile_save
from publishing.networks import adapter_for, adapters
from publishing.networks.base import PublishError
from publishing.stores import DatabaseStore, account_snapshot

logger = logging.getLogger(__name__)


def social_accounts_credentials_refresh_expiring() -> int:
    """Renew every sign-in that lapses within its network's `refresh_before`, so posts
    rarely wait on a token endpoint. Returns how many were renewed (by this call or by
    a worker that got there first)."""
    refreshed = 0
    for adapter in adapters():
        if adapter.refresh_before is None:
            continue
        expiring = (
            SocialAccount.objects.filter(
                network=adapter.network,
                status__in=[SocialAccount.Status.ACTIVE, SocialAccount.Status.PAUSED],
                token_expires_at__lte=timezone.now() + adapter.refresh_before,
            )
            .exclude(credentials="")
            .order_by("token_expires_at")
        )
        store = DatabaseStore(network=adapter.network)
        for account in expiring:
            snapshot = account_snapshot(account)
            if not adapter.sign_in_renewable(snapshot):
                continue  # only reconnecting helps: staff are told when (social_account_health)
            try:
                adapter.credentials_fresh(account=snapshot, store=store)
            except PublishError as error:
                logger.warning("account %s: sign-in not renewed: %s", account.pk, error.message)
            else:
                refreshed += 1
    return refreshed


def social_account_profile_refresh(*, account: SocialAccount) -> None:
    """Ask the network for the account's profile and keep it. Raises `PublishError`."""
    adapter = adapter_for(account.network)
    profile = adapter.profile_fetch(
        account=account_snapshot(account), store=DatabaseStore(network=account.network)
    )
    social_account_profile_save(
        account=account,
        handle=profile.handle,
        display_name=profile.display_name,
        avatar_url=profile.avatar_url,
        followers_count=profile.followers_count,
        subscription_type=profile.subscription_type,
    )


def social_accounts_profiles_refresh_stale(*, account_ids: Collection[int] | None = None) -> int:
    """Refresh the profiles older than a day, of these accounts or of all; return how
    many were refreshed. A profile the network would not give stays as it was, to be
    tried again."""
    refreshed = 0
    for adapter in adapters():
        if not adapter.has_profile:
            continue
        stale = social_accounts_profile_stale(network=adapter.network, now=timezone.now())
        if account_ids is not None:
            stale = stale.filter(pk__in=account_ids)
        for account in stale.select_related("workspace"):
            try:
                social_account_profile_refresh(account=account)
            except PublishError as error:
                logger.warning("account %s: profile not refreshed: %s", account.pk, error.message)
            else:
                refreshed += 1
    return refreshed
