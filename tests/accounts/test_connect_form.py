"""Connecting a Bluesky account from the admin's form: handle and app password, against
the fake Bluesky over real HTTP."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied

from accounts.models import AuditEvent, SocialAccount
from accounts.services import social_account_credentials, social_account_needs_reauth
from publishing.connect import social_account_connect_with
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

URL = "/accounts/connect/bluesky/"


def staff_member(*, workspace):
    user = UserFactory()
    MembershipFactory(user=user, workspace=workspace)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_socialaccount", "change_socialaccount", "view_socialaccount"]
        )
    )
    return user


@pytest.fixture
def workspace():
    return WorkspaceFactory()


@pytest.fixture
def staff(client, workspace):
    user = staff_member(workspace=workspace)
    client.force_login(user)
    return user


@pytest.fixture
def brand(bsky):
    return bsky.control.create_account(handle="brand.bsky.social", email="brand@example.com")


def fill(bsky, workspace, brand, **changes):
    return {
        "workspace": workspace.pk,
        "identifier": brand["handle"],
        "app_password": brand["app_password"],
        "pds": bsky.url,
        **changes,
    }


def test_the_form_asks_for_the_handle_an_app_password_and_the_pds(bsky, client, staff):
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="password" name="app_password"' in html
    assert 'value="' + bsky.url + '"' in html  # the PDS the settings name, as the default


def test_connecting_keeps_the_session_and_never_the_app_password(
    bsky, client, staff, workspace, brand
):
    response = client.post(URL, fill(bsky, workspace, brand))
    account = SocialAccount.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/socialaccount/{account.pk}/change/")
    assert (account.workspace, account.network, account.status) == (workspace, "bluesky", "active")
    assert (account.external_id, account.handle) == (brand["did"], "brand.bsky.social")
    credentials = social_account_credentials(account=account)
    assert set(credentials) == {"access_jwt", "refresh_jwt", "did", "pds"}
    assert brand["app_password"] not in str(credentials)
    assert brand["app_password"] not in account.credentials
    assert account.token_expires_at is not None
    assert bsky.control.stats()["sessions_created"] == {brand["did"]: 1}
    assert AuditEvent.objects.get(action="account.connected").actor == staff


def test_a_wrong_app_password_connects_nothing_and_says_what_to_check(
    bsky, client, staff, workspace, brand
):
    response = client.post(URL, fill(bsky, workspace, brand, app_password="aaaa-bbbb-cccc-dddd"))
    assert response.status_code == 200
    assert "refused the handle or app password" in response.content.decode()
    assert "aaaa-bbbb-cccc-dddd" not in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_a_workspace_that_is_not_yours_is_refused(bsky, client, staff, brand):
    elsewhere = WorkspaceFactory()
    response = client.post(URL, fill(bsky, elsewhere, brand))
    assert response.status_code == 200
    assert "workspace" in response.context["form"].errors
    assert not SocialAccount.objects.exists()
    assert bsky.control.stats()["sessions_created"] == {}
    with pytest.raises(PermissionDenied):
        social_account_connect_with(
            user=staff, workspace=elsewhere, network="bluesky", values=fill(bsky, elsewhere, brand)
        )


@pytest.mark.parametrize("network", ["x", "myspace"])
def test_networks_without_a_form_have_no_page(client, staff, network):
    assert client.get(f"/accounts/connect/{network}/").status_code == 404


def test_only_staff_reach_the_form(client, workspace):
    user = staff_member(workspace=workspace)
    user.is_staff = False
    user.save()
    client.force_login(user)
    assert client.post(URL, {}).status_code == 302


def test_reconnecting_an_account_that_waits_brings_it_back(bsky, client, staff, workspace, brand):
    client.post(URL, fill(bsky, workspace, brand))
    account = SocialAccount.objects.get()
    social_account_needs_reauth(account=account, reason="app password revoked")
    client.post(URL, fill(bsky, workspace, brand))
    account.refresh_from_db()
    assert account.status == SocialAccount.Status.ACTIVE
    assert SocialAccount.objects.count() == 1


def test_the_api_connects_with_the_same_rules(bsky, client, staff, workspace, brand):
    api = "/api/v1/bluesky/connect/"
    body = fill(bsky, workspace, brand)
    refused = client.post(api, {**body, "app_password": "nope"}, content_type="application/json")
    assert refused.status_code == 400
    assert "refused the handle or app password" in refused.json()["detail"]
    elsewhere = {**body, "workspace": WorkspaceFactory().pk}
    assert client.post(api, elsewhere, content_type="application/json").status_code == 400
    answer = client.post(api, body, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json() == {
        "id": SocialAccount.objects.get().pk,
        "network": "bluesky",
        "handle": "brand.bsky.social",
        "external_id": brand["did"],
        "status": "active",
    }
