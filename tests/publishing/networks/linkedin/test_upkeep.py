"""LinkedIn sign-ins renewed a week ahead where LinkedIn gave a refresh token (partner
apps), left alone where it did not, and profiles kept, by publishing.upkeep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import social_account_connect, social_account_credentials
from publishing.upkeep import (
    social_account_profile_refresh,
    social_accounts_credentials_refresh_expiring,
)
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def stored(scene, *, lapses_in):
    credentials = {"access_token": scene.access_token, "author": scene.member_urn}
    if scene.refresh_token:
        credentials["refresh_token"] = scene.refresh_token
    return social_account_connect(
        network="linkedin",
        workspace=WorkspaceFactory(),
        external_id=scene.member_urn,
        handle="Ada Lovelace",
        credentials=credentials,
        expires_at=timezone.now() + lapses_in,
    )


def test_a_partner_sign_in_lapsing_within_a_week_is_renewed_and_kept(linkedin):
    linkedin.control.set_linkedin_settings(refresh_tokens=True)
    account = stored(linkedin.control.create_scene(), lapses_in=timedelta(days=5))
    before = social_account_credentials(account=account)["access_token"]

    assert social_accounts_credentials_refresh_expiring() == 1

    account.refresh_from_db()
    assert social_account_credentials(account=account)["access_token"] != before
    assert account.token_expires_at > timezone.now() + timedelta(days=59)
    assert linkedin.control.stats()["token_exchanges"] == {"refresh_token": 1}


def test_a_sign_in_without_a_refresh_token_is_not_counted_as_renewed(linkedin):
    stored(linkedin.control.create_scene(), lapses_in=timedelta(days=5))

    assert social_accounts_credentials_refresh_expiring() == 0
    assert linkedin.control.stats()["token_exchanges"] == {}


def test_the_profile_comes_from_linkedin(linkedin):
    account = stored(linkedin.control.create_scene(name="Ada King"), lapses_in=timedelta(days=30))

    social_account_profile_refresh(account=account)

    account.refresh_from_db()
    assert (account.display_name, account.handle) == ("Ada King", "Ada King")
