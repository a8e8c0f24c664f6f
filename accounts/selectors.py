from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from accounts.models import SocialAccount

# How long the network's profile of an account (name, avatar, followers) is trusted.
PROFILE_MAX_AGE = timedelta(hours=24)


def social_account_profile_is_stale(*, account: SocialAccount, now: datetime) -> bool:
    if account.network == SocialAccount.Network.SANDBOX:
        return False
    refreshed = account.profile_refreshed_at
    return refreshed is None or now - refreshed >= PROFILE_MAX_AGE


def social_accounts_profile_stale(*, network: str, now: datetime) -> QuerySet[SocialAccount]:
    """Connected accounts whose cached profile is due for a refresh."""
    return SocialAccount.objects.filter(
        Q(profile_refreshed_at__isnull=True) | Q(profile_refreshed_at__lte=now - PROFILE_MAX_AGE),
        network=network,
        status__in=[SocialAccount.Status.ACTIVE, SocialAccount.Status.PAUSED],
    ).exclude(credentials="")


def social_account_connection(*, account: SocialAccount, now: datetime) -> str:
    """How the account's sign-in stands, in words. Never the token itself."""
    if account.network == SocialAccount.Network.SANDBOX:
        return "built in, no sign-in needed"
    if not account.credentials:
        return "not connected"
    if account.token_expires_at is None:
        return "connected"
    left = account.token_expires_at - now
    if left > timedelta(0):
        return f"connected, expires in {duration_words(left)}"
    return f"connected, token expired {duration_words(-left)} ago (renewed at its next use)"


def duration_words(delta: timedelta) -> str:
    """1 h 12 min, 40 min, 2 h; under a minute reads as such."""
    hours, minutes = divmod(int(delta.total_seconds()) // 60, 60)
    if not hours and not minutes:
        return "under a minute"
    return " ".join(
        part
        for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "")
        if part
    )
