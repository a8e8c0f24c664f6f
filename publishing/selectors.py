"""Reads that combine accounts with what publishing knows of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from accounts.models import SocialAccount
from publishing.networks import adapter_for
from publishing.ratelimits import rate_limited_until
from publishing.stores import account_snapshot

# How long ahead staff are told to reconnect an account whose sign-in Kairos cannot renew.
RECONNECT_NOTICE = timedelta(days=14)


def social_account_health(*, account: SocialAccount, now: datetime) -> list[str]:
    """What stands between the account and its next post, most pressing first."""
    problems = []
    if account.status == SocialAccount.Status.NEEDS_REAUTH:
        problems.append("needs reconnecting: the network refused its sign-in; connect it again")
    elif account.status != SocialAccount.Status.ACTIVE:
        problems.append(account.get_status_display().lower())
    reconnect = _reconnect_notice(account=account, now=now)
    if reconnect:
        problems.append(reconnect)
    if account.billing_problem:
        problems.append(f"billing problem: {account.billing_problem}")
    limited_until = rate_limited_until(
        network=account.network, account_id=account.pk, endpoint="post", now=now
    )
    if limited_until is not None:
        problems.append(f"rate-limited until {limited_until:%Y-%m-%d %H:%M} UTC")
    return problems or ["active"]


def _reconnect_notice(*, account: SocialAccount, now: datetime) -> str:
    """ "reconnect before 14 Jan 2027", for an active account whose sign-in lapses within
    RECONNECT_NOTICE and that Kairos cannot renew (LinkedIn without a partner refresh
    token); the date in the workspace's zone."""
    expires_at = account.token_expires_at
    if (
        expires_at is None
        or account.status != SocialAccount.Status.ACTIVE
        or expires_at - now > RECONNECT_NOTICE
    ):
        return ""
    adapter = adapter_for(account.network)
    if adapter.sign_in_renewable(account_snapshot(account)):
        return ""
    local = expires_at.astimezone(ZoneInfo(account.workspace.default_timezone))
    if expires_at <= now:
        return (
            f"sign-in ended on {local:%d %b %Y}: {adapter.label} does not let Kairos renew it; "
            "reconnect the account, and its posts (which wait meanwhile) go out"
        )
    return (
        f"reconnect before {local:%d %b %Y %H:%M} ({local.tzname()}): {adapter.label} does not let "
        "Kairos renew the sign-in, and posts wait from then until it is reconnected"
    )
