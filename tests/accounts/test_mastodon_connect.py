"""Connecting a Mastodon account end to end: Kairos, the browser and the fake instance
over real HTTP. The instance is named by staff; Kairos registers itself there once."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from accounts.models import NetworkApp, SocialAccount
from accounts.services import social_account_credentials
from publishing.networks.base import ConnectError
from publishing.networks.mastodon.oauth import mastodon_instance
from tests.accounts.test_oauth import staff_member
from tests.factories import UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://testserver/accounts/mastodon/callback/"


@pytest.fixture
def instance(mastodon, settings):
    settings.MASTODON_REDIRECT_URI = REDIRECT_URI
    mastodon.control.create_account(
        username="kairos_brand", display_name="Kairos Brand", followers_count=321
    )
    return mastodon


@pytest.fixture
def workspace():
    return WorkspaceFactory()


@pytest.fixture
def staff(client, workspace):
    user = staff_member(workspace=workspace)
    client.force_login(user)
    return user


def sign_in(client, *, workspace, instance_address):
    """Name the instance and agree there (as its logged-in account); return the callback
    address the instance sends the browser back to, not yet visited."""
    start = client.post(
        "/accounts/mastodon/connect/", {"workspace": workspace.pk, "instance": instance_address}
    )
    assert start.status_code == 302, start.content
    consent = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT_URI
    return f"{back.path}?{back.query}"


def test_connecting_registers_kairos_once_and_stores_the_account(
    instance, client, staff, workspace
):
    response = client.get(sign_in(client, workspace=workspace, instance_address=instance.url))
    assert response.status_code == 302, response.content
    account = SocialAccount.objects.get(network="mastodon")
    assert (account.workspace, account.status) == (workspace, "active")
    assert (account.handle, account.display_name) == ("kairos_brand@127.0.0.1", "Kairos Brand")
    assert (account.followers_count, account.token_expires_at) == (321, None)
    credentials = social_account_credentials(account=account)
    assert credentials["instance_url"] == instance.url
    assert credentials["access_token"] not in account.credentials
    assert '"max_characters": 500' in credentials["instance_configuration"]
    me = requests.get(
        f"{instance.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {credentials['access_token']}"},
        timeout=5,
    )
    assert me.json()["username"] == "kairos_brand"

    # A second account of the same instance uses the app already registered.
    client.get(sign_in(client, workspace=workspace, instance_address=instance.url))
    assert instance.control.stats()["apps_registered"] == 1
    app = NetworkApp.objects.get(network="mastodon", server=instance.url)
    assert app.client_id == instance.control.apps()[0]["client_id"]
    assert instance.control.apps()[0]["scopes"] == [
        "write:statuses",
        "write:media",
        "read:statuses",
        "profile",
    ]


def test_the_sign_in_asks_for_kairos_scopes_with_pkce(instance, client, staff, workspace):
    start = client.post(
        "/accounts/mastodon/connect/", {"workspace": workspace.pk, "instance": instance.url}
    )
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["scope"] == ["write:statuses write:media read:statuses profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [REDIRECT_URI]


def test_an_altered_state_is_refused_and_nothing_is_connected(instance, client, staff, workspace):
    callback = sign_in(client, workspace=workspace, instance_address=instance.url)
    tampered = callback.replace("state=", "state=x")
    response = client.get(tampered)
    assert response.status_code == 400
    assert "altered" in response.content.decode()
    assert "Connect Mastodon account" in response.content.decode()
    assert not SocialAccount.objects.exists()
    assert instance.control.stats()["token_exchanges"] == {}


def test_a_sign_in_started_by_someone_else_is_refused(instance, client, staff, workspace):
    callback = sign_in(client, workspace=workspace, instance_address=instance.url)
    client.force_login(UserFactory(is_staff=True))
    response = client.get(callback)
    assert response.status_code == 400
    assert "another Kairos user" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_an_instance_that_will_not_register_kairos_says_so(instance, client, staff, workspace):
    instance.control.add_fault("status", status=503, path_prefix="/api/v1/apps")
    response = client.post(
        "/accounts/mastodon/connect/",
        {"workspace": workspace.pk, "instance": instance.url},
        follow=True,
    )
    assert response.status_code == 200
    assert "refused to register Kairos as an app" in response.content.decode()
    assert not NetworkApp.objects.exists()


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("https://Mastodon.Social/about", "https://mastodon.social"),
        ("@kairos@fosstodon.org", "https://fosstodon.org"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_the_instance_is_read_from_what_people_type(typed, base):
    assert mastodon_instance(typed) == base


@pytest.mark.parametrize("typed", ["http://mastodon.social", "not an address", ""])
def test_an_address_kairos_will_not_use_is_refused(typed):
    with pytest.raises(ConnectError):
        mastodon_instance(typed)


# --- The API ---------------------------------------------------------------------------


def test_integrators_get_an_address_to_send_the_person_to(instance, client, staff, workspace):
    answer = client.post(
        "/api/v1/mastodon/connect/",
        {"workspace": workspace.pk, "instance": instance.url},
        content_type="application/json",
    )
    assert answer.status_code == 200
    authorize_url = answer.json()["authorize_url"]
    assert authorize_url.startswith(f"{instance.url}/oauth/authorize?")
    consent = requests.get(authorize_url, allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    assert SocialAccount.objects.get(workspace=workspace).handle == "kairos_brand@127.0.0.1"


def test_the_api_says_why_an_instance_cannot_be_used(instance, client, staff, workspace):
    answer = client.post(
        "/api/v1/mastodon/connect/",
        {"workspace": workspace.pk, "instance": "http://mastodon.social"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "HTTPS only" in answer.json()["detail"]
