"""The cached profile of connected X accounts: name, avatar, followers, subscription.

Refreshed once a day (accounts.tasks) and when staff look at an account whose
profile is older than that (accounts.admin).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from django.utils import timezone

from accounts.models import SocialAccount
from accounts.selectors import social_accounts_profile_stale
from accounts.services import social_account_profile_save
from publishing.networks.base import PublishError
from publishing.networks.x.client import XClient
from publishing.networks.x.oauth import PROFILE_FIELDS, x_profile_from_answer

logger = logging.getLogger(__name__)

_client = XClient()


def x_profile_refresh(*, account: SocialAccount) -> None:
    answer = _client.call(
        "GET",
        "/2/users/me",
        token=_client.token(account),
        account=account,
        params={"user.fields": PROFILE_FIELDS},
        endpoint="me",
    )
    profile = x_profile_from_answer(answer)
    social_account_profile_save(
        account=account,
        handle=profile.username,
        display_name=profile.name,
        avatar_url=profile.avatar_url,
        followers_count=profile.followers_count,
        subscription_type=profile.subscription_type,
    )


def x_profiles_refresh_stale(*, account_ids: Collection[int] | None = None) -> int:
    """Refresh the X profiles older than a day, of these accounts or of all; return how
    many were refreshed. A profile X would not give stays as it was, to be tried again."""
    stale = social_accounts_profile_stale(network=SocialAccount.Network.X, now=timezone.now())
    if account_ids is not None:
        stale = stale.filter(pk__in=account_ids)
    refreshed = 0
    for account in stale.select_related("workspace"):
        try:
            x_profile_refresh(account=account)
        except PublishError as error:
            logger.warning("X account %s: profile not refreshed: %s", account.pk, error.message)
        else:
            refreshed += 1
    return refreshed
