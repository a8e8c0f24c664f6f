"""Keeping a Mastodon account current (publishing/upkeep.py): its profile, and the
instance's limits kept with its sign-in, with the account in the database."""

import pytest

from accounts.services import social_account_credentials
from publishing.upkeep import (
    social_account_profile_refresh,
    social_accounts_credentials_refresh_expiring,
)

pytestmark = pytest.mark.django_db


def test_the_profile_refresh_keeps_the_instances_new_limits(mastodon, stored_account):
    mastodon.control.update_account(
        stored_account.external_id, display_name="Brand", followers_count=40
    )
    mastodon.control.set_configuration(max_characters=11000)
    social_account_profile_refresh(account=stored_account)
    stored_account.refresh_from_db()
    assert (stored_account.display_name, stored_account.followers_count) == ("Brand", 40)
    credentials = social_account_credentials(account=stored_account)
    assert '"max_characters": 11000' in credentials["instance_configuration"]
    assert credentials["access_token"]
    assert stored_account.token_expires_at is None


def test_a_sign_in_that_never_expires_is_never_renewed(mastodon, stored_account):
    assert social_accounts_credentials_refresh_expiring() == 0
