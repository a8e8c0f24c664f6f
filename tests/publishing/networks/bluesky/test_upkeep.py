"""Bluesky sessions renewed ahead of time, and profiles kept, by publishing.upkeep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SocialAccount
from accounts.services import social_account_connect, social_account_credentials
from publishing.upkeep import (
    social_account_profile_refresh,
    social_accounts_credentials_refresh_expiring,
)
from tests.factories import WorkspaceFactory

from .conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(bsky):
    user, credentials = signed_in(bsky)
    return social_account_connect(
        network="bluesky",
        workspace=WorkspaceFactory(),
        external_id=user.did,
        handle=user.handle,
        credentials=dict(credentials.values),
        # Lapsing within refresh_before (20 minutes).
        expires_at=timezone.now() + timedelta(minutes=10),
    )


def test_a_session_about_to_lapse_is_renewed_and_kept(bsky, account):
    before = social_account_credentials(account=account)
    assert social_accounts_credentials_refresh_expiring() == 1
    account.refresh_from_db()
    after = social_account_credentials(account=account)
    assert after["refresh_jwt"] != before["refresh_jwt"]
    assert account.token_expires_at > timezone.now() + timedelta(hours=1)
    assert bsky.control.stats()["sessions_refreshed"] == {account.external_id: 1}


def test_a_revoked_app_password_sends_the_account_to_reconnecting(bsky, account):
    bsky.control.end_sessions(account.external_id)
    assert social_accounts_credentials_refresh_expiring() == 0
    account.refresh_from_db()
    assert account.status == SocialAccount.Status.NEEDS_REAUTH


def test_the_profile_comes_from_bluesky(bsky, account):
    bsky.control.update_account(account.external_id, display_name="Brand", followers_count=7)
    social_account_profile_refresh(account=account)
    account.refresh_from_db()
    assert (account.display_name, account.followers_count) == ("Brand", 7)
