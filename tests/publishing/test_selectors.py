"""Staff are told days ahead when to reconnect an account whose sign-in Kairos cannot
renew (LinkedIn without a partner refresh token), in the workspace's zone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import SocialAccount
from accounts.services import social_account_connect
from publishing.selectors import social_account_health
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

CONNECTED = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def linkedin_account(*, refresh: bool) -> SocialAccount:
    credentials = {"access_token": "token", "author": "urn:li:person:abc"}
    if refresh:
        credentials["refresh_token"] = "refresh"
    return social_account_connect(
        network="linkedin",
        workspace=WorkspaceFactory(default_timezone="Europe/Paris"),
        external_id="urn:li:person:abc",
        handle="Ada Lovelace",
        credentials=credentials,
        expires_at=CONNECTED + timedelta(days=60),
    )


def test_no_notice_while_the_sign_in_has_weeks_left():
    with time_machine.travel(CONNECTED, tick=False):
        account = linkedin_account(refresh=False)

        assert social_account_health(account=account, now=CONNECTED) == ["active"]


def test_two_weeks_ahead_staff_are_told_the_date_in_the_workspace_zone():
    with time_machine.travel(CONNECTED, tick=False):
        account = linkedin_account(refresh=False)
    later = CONNECTED + timedelta(days=50)

    [notice] = social_account_health(account=account, now=later)

    # 60 days after 16 Nov 09:00 UTC: 15 Jan 2027, 10:00 in Paris.
    assert notice.startswith("reconnect before 15 Jan 2027 10:00 (CET): LinkedIn")


def test_once_lapsed_the_notice_says_posts_wait_for_a_reconnect():
    with time_machine.travel(CONNECTED, tick=False):
        account = linkedin_account(refresh=False)

    [notice] = social_account_health(account=account, now=CONNECTED + timedelta(days=61))

    assert notice.startswith("sign-in ended on 15 Jan 2027") and "wait" in notice


def test_a_partner_sign_in_that_kairos_renews_needs_no_notice():
    with time_machine.travel(CONNECTED, tick=False):
        account = linkedin_account(refresh=True)

    assert social_account_health(account=account, now=CONNECTED + timedelta(days=55)) == ["active"]
