"""Reads that combine accounts with what publishing knows of them."""

from __future__ import annotations

from datetime import datetime

from accounts.models import SocialAccount
from publishing.ratelimits import rate_limited_until


def social_account_health(*, account: SocialAccount, now: datetime) -> list[str]:
    """What stands between the account and its next post, most pressing first."""
    problems = []
    if account.status == SocialAccount.Status.NEEDS_REAUTH:
        problems.append("needs reconnecting: the network refused its sign-in; connect it again")
    elif account.status != SocialAccount.Status.ACTIVE:
        problems.append(account.get_status_display().lower())
    if account.billing_problem:
        problems.append(f"billing problem: {account.billing_problem}")
    limited_until = rate_limited_until(
        network=account.network, account_id=account.pk, endpoint="post", now=now
    )
    if limited_until is not None:
        problems.append(f"rate-limited until {limited_until:%Y-%m-%d %H:%M} UTC")
    return problems or ["active"]
