"""Connecting an X account end to end: Kairos, the browser and the fake X over real HTTP."""

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import AuditEvent, Membership, SocialAccount
from accounts.services import oauth_state_redeem, social_account_credentials
from publishing.networks.base import ConnectError
from publishing.networks.x.oauth import SCOPES, x_code_exchange
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.x_oauth import CLIENT_ID, REDIRECT_URI, x_app_configure, x_connect, x_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def x(fake_x, settings, monkeypatch):
    x_app_configure(fake_x, settings, monkeypatch)
    fake_x.control.create_user(
        username="kairos_brand",
        name="Kairos Brand",
        followers_count=1234,
        subscription_type="Premium",
    )
    return fake_x


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


def token_exchanges(x) -> dict:
    return x.control.stats()["token_exchanges"]


def test_connecting_stores_the_account_its_profile_and_encrypted_tokens(
    x, client, staff, workspace
):
    account = x_connect(client, workspace=workspace)

    assert (account.workspace, account.network, account.status) == (workspace, "x", "active")
    assert (account.handle, account.display_name) == ("kairos_brand", "Kairos Brand")
    assert (account.followers_count, account.subscription_type) == (1234, "Premium")
    assert account.avatar_url.startswith("https://pbs.twimg.com/")
    assert account.profile_refreshed_at is not None
    assert abs(account.token_expires_at - (timezone.now() + timedelta(hours=2))) < timedelta(
        minutes=1
    )
    tokens = social_account_credentials(account=account)
    assert tokens["access_token"] not in account.credentials
    assert tokens["refresh_token"] not in account.credentials
    me = requests.get(
        f"{x.url}/2/users/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert me.json()["data"]["username"] == "kairos_brand"
    assert token_exchanges(x) == {"authorization_code": 1}
    event = AuditEvent.objects.get(action="account.connected")
    assert (event.actor, event.to_status) == (staff, "active")


def test_the_sign_in_asks_x_for_exactly_what_kairos_needs(x, client, staff, workspace):
    start = client.post("/accounts/x/connect/", {"workspace": workspace.pk})
    url = urlsplit(start["Location"])
    query = {name: values[0] for name, values in parse_qs(url.query).items()}

    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{x.url}/i/oauth2/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"].split(" ") == list(SCOPES)
    assert query["code_challenge_method"] == "S256"
    verifier = oauth_state_redeem(state=query["state"], network="x", user=staff).code_verifier
    assert len(verifier) == 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.mark.parametrize("confidential", [True, False], ids=["confidential", "public"])
def test_confidential_and_public_apps_both_connect(
    fake_x, settings, monkeypatch, client, staff, workspace, confidential
):
    x_app_configure(fake_x, settings, monkeypatch, confidential=confidential)
    fake_x.control.create_user(username="brand")
    assert x_connect(client, workspace=workspace).handle == "brand"


def test_a_confidential_app_without_its_secret_is_told_what_to_fix(
    x, client, staff, workspace, settings
):
    settings.X_CLIENT_SECRET = ""
    response = client.get(x_sign_in(client, workspace=workspace))
    assert response.status_code == 400
    assert "unauthorized_client" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_a_tampered_state_is_refused_before_x_is_asked(x, client, staff, workspace):
    callback = x_sign_in(client, workspace=workspace)
    tampered = callback.replace("state=", "state=x")

    response = client.get(tampered)

    assert response.status_code == 400
    assert "altered" in response.content.decode()
    assert not SocialAccount.objects.exists()
    assert token_exchanges(x) == {}


def test_a_replayed_callback_is_refused(x, client, staff, workspace):
    callback = x_sign_in(client, workspace=workspace)
    assert client.get(callback).status_code == 302

    again = client.get(callback)

    assert again.status_code == 400
    assert "already used" in again.content.decode()
    assert token_exchanges(x) == {"authorization_code": 1}


def test_x_takes_each_code_once(x, client, staff, workspace):
    callback = x_sign_in(client, workspace=workspace)
    query = {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}
    verifier = oauth_state_redeem(state=query["state"], network="x", user=staff).code_verifier
    x_code_exchange(code=query["code"], code_verifier=verifier)

    with pytest.raises(ConnectError, match="work once and for 30 seconds"):
        x_code_exchange(code=query["code"], code_verifier=verifier)


def test_a_sign_in_older_than_ten_minutes_is_refused(x, client, staff, workspace):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        callback = x_sign_in(client, workspace=workspace)
        traveller.shift(timedelta(minutes=10, seconds=1))
        response = client.get(callback)

    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_a_sign_in_finishes_only_for_the_person_who_started_it(x, client, staff, workspace):
    callback = x_sign_in(client, workspace=workspace)
    client.force_login(staff_member(workspace=workspace))

    response = client.get(callback)

    assert response.status_code == 400
    assert "another Kairos user" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_the_callback_asks_who_is_there_first(x, client, staff, workspace):
    callback = x_sign_in(client, workspace=workspace)
    client.logout()
    response = client.get(callback)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_declining_on_x_connects_nothing(fake_x, settings, monkeypatch, client, staff, workspace):
    # No one on the fake X to agree: it sends the browser back with access_denied.
    x_app_configure(fake_x, settings, monkeypatch)

    response = client.get(x_sign_in(client, workspace=workspace))

    assert response.status_code == 400
    assert "did not let Kairos in (access_denied)" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_reconnecting_brings_back_an_account_waiting_for_it(x, client, staff, workspace):
    account = x_connect(client, workspace=workspace)
    SocialAccount.objects.filter(pk=account.pk).update(status="needs_reauth")

    again = x_connect(client, workspace=workspace)

    assert (again.pk, again.status) == (account.pk, "active")
    event = AuditEvent.objects.get(action="account.reconnected")
    assert (event.from_status, event.to_status) == ("needs_reauth", "active")


def test_reconnecting_a_paused_account_leaves_it_paused(x, client, staff, workspace):
    account = x_connect(client, workspace=workspace)
    SocialAccount.objects.filter(pk=account.pk).update(status="paused")
    assert x_connect(client, workspace=workspace).status == "paused"


def test_staff_connect_only_to_their_own_workspaces(x, client, staff):
    other = WorkspaceFactory()
    response = client.post("/accounts/x/connect/", {"workspace": other.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_social_accounts_page_has_the_connect_button(x, client, staff):
    page = client.get("/admin/accounts/socialaccount/").content.decode()
    assert 'href="/accounts/x/connect/"' in page
    assert "Connect X account" in page


def test_connecting_is_off_without_an_app(x, client, staff, workspace, settings):
    settings.X_CLIENT_ID = ""
    page = client.post("/accounts/x/connect/", {"workspace": workspace.pk})
    assert page.status_code == 200
    assert "set X_CLIENT_ID" in page.content.decode()
    answer = client.post("/api/v1/x/connect/", {"workspace": workspace.pk})
    assert answer.status_code == 403
    assert answer.json()["setting"] == "X_CLIENT_ID"
    assert "X_CLIENT_ID" in answer.json()["detail"]


# --- The API ---------------------------------------------------------------------------


def test_integrators_get_an_address_to_send_the_person_to(x, client, staff, workspace):
    answer = client.post(
        "/api/v1/x/connect/", {"workspace": workspace.pk}, content_type="application/json"
    )
    assert answer.status_code == 200
    authorize_url = answer.json()["authorize_url"]
    assert authorize_url.startswith(f"{x.url}/i/oauth2/authorize?")

    consent = requests.get(authorize_url, allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["location"])
    finished = client.get(f"{back.path}?{back.query}")

    assert finished.status_code == 302
    assert SocialAccount.objects.get(workspace=workspace).handle == "kairos_brand"


def test_the_api_refuses_a_workspace_of_someone_else(x, client, staff):
    answer = client.post(
        "/api/v1/x/connect/", {"workspace": WorkspaceFactory().pk}, content_type="application/json"
    )
    assert answer.status_code == 400
    assert "workspace" in answer.json()


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.VIEWER])
def test_the_api_refuses_members_whose_role_may_not_add_accounts(x, client, workspace, role):
    user = UserFactory()
    MembershipFactory(user=user, workspace=workspace, role=role)
    client.force_login(user)
    answer = client.post(
        "/api/v1/x/connect/", {"workspace": workspace.pk}, content_type="application/json"
    )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("confidential", "basic_auth"), [(True, True), (False, False)], ids=["confidential", "public"]
)
def test_the_app_names_itself_to_x_as_its_kind_must(
    fake_x, settings, monkeypatch, client, staff, workspace, confidential, basic_auth
):
    x_app_configure(fake_x, settings, monkeypatch, confidential=confidential)
    fake_x.control.create_user(username="brand")
    sent = []
    send = requests.Session.send

    def recording_send(session, request, **kwargs):
        if request.url == settings.X_TOKEN_URL:
            sent.append(request)
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", recording_send)
    x_connect(client, workspace=workspace)

    (exchange,) = sent
    form = parse_qs(exchange.body)
    assert exchange.headers.get("Authorization", "").startswith("Basic ") == basic_auth
    assert form["client_id"] == [CLIENT_ID]
    assert form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == [REDIRECT_URI]
    assert len(form["code_verifier"][0]) == 128
