"""Checking connected accounts from a terminal (`manage.py check_accounts`): what Kairos
knows of each (status, sign-in expiry, spent rate-limit windows) and one harmless call
to its network through the adapter, the profile look-up of publishing/upkeep.py (it
keeps the profile it gets, as the daily refresh does). A network with no profile
(the sandbox) gets no call.

An account needs attention when it holds its jobs back until a person acts
(publishing/health.py decides which), when its sign-in has lapsed, or when its
network refused the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accounts.models import SocialAccount
from publishing.health import ACCOUNT_NEEDS_ATTENTION
from publishing.models import RateLimitWindow
from publishing.networks import adapter_for
from publishing.networks.base import PublishError
from publishing.ratelimits import account_key
from publishing.upkeep import social_account_profile_refresh


@dataclass
class AccountCheck:
    account: SocialAccount
    call: str = ""
    problems: list[str] = field(default_factory=list)
    rate_limited: dict[str, datetime] = field(default_factory=dict)  # endpoint → reset

    @property
    def needs_attention(self) -> bool:
        return bool(self.problems)

    def as_json(self) -> dict:
        account = self.account
        return {
            "id": account.pk,
            "workspace": account.workspace.slug,
            "network": account.network,
            "handle": account.handle,
            "status": account.status,
            "token_expires_at": _at(account.token_expires_at),
            "rate_limited_until": {k: _at(v) for k, v in self.rate_limited.items()},
            "call": self.call,
            "needs_attention": self.needs_attention,
            "problems": self.problems,
        }


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def social_account_check(*, account: SocialAccount, now: datetime, call: bool) -> AccountCheck:
    """What is wrong with the account, if anything; `call` asks its network once."""
    check = AccountCheck(account=account)
    if SocialAccount.objects.filter(ACCOUNT_NEEDS_ATTENTION, pk=account.pk).exists():
        reason = account.get_status_display().lower()
        if account.billing_problem:
            reason = f"refused for billing: {account.billing_problem}"
        check.problems.append(f"{account} {reason}: its jobs wait until a person acts.")
    if account.token_expires_at is not None and account.token_expires_at <= now:
        check.problems.append(
            f"{account}'s sign-in lapsed at {account.token_expires_at:%Y-%m-%d %H:%M} UTC and "
            "was not renewed; reconnect it."
        )
    check.rate_limited = dict(
        RateLimitWindow.objects.filter(
            network=account.network, key=account_key(account.pk), remaining=0, resets_at__gt=now
        ).values_list("endpoint", "resets_at")
    )
    adapter = adapter_for(account.network)
    if not call:
        check.call = "not asked (--no-call)"
    elif not adapter.has_profile:
        check.call = f"no call: {adapter.label} has no profile to ask for"
    elif account.status == SocialAccount.Status.DISABLED or not account.credentials:
        check.call = "no call: the account is not connected"
    else:
        try:
            social_account_profile_refresh(account=account)
        except PublishError as error:
            check.call = f"profile refused ({error.kind})"
            check.problems.append(f"{adapter.label} refused the profile call: {error.message}")
        else:
            account.refresh_from_db()
            check.call = "profile ok"
    return check
