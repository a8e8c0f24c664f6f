"""Connecting Facebook Pages and Instagram accounts end to end: Kairos, the browser and the
fake Graph API over real HTTP. One Facebook sign-in brings every Page the person
manages (and the Instagram accounts linked to them); staff choose which to connect."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from accounts.models import SocialAccount
from accounts.services import social_account_credentials
from tests.accounts.test_oauth import staff_member
from tests.factories import UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

FACEBOOK_CALLBACK = "http://testserver/accounts/facebook/callback/"
INSTAGRAM_CALLBACK = "http://testserver/accounts/instagram/callback/"


@pytest.fixture
def person(meta, settings):
    """Someone managing two Pages (one with an Instagram account) and a third, signed in
    on the fake's dialog."""
    settings.FACEBOOK_REDIRECT_URI = FACEBOOK_CALLBACK
    settings.INSTAGRAM_REDIRECT_URI = INSTAGRAM_CALLBACK
    someone = meta.control.create_person(name="Bea Baker")
    pages = [
        meta.control.create_page(user_id=someone["id"], name="Bakery"),
        meta.control.create_page(
            user_id=someone["id"], name="Cafe", instagram_username="kairos.cafe"
        ),
    ]
    meta.control.log_in(someone["id"])
    return {"id": someone["id"], "pages": pages}


@pytest.fixture
def workspace():
    return WorkspaceFactory()


@pytest.fixture
def staff(client, workspace):
    user = staff_member(workspace=workspace)
    client.force_login(user)
    return user


def sign_in(client, *, network, workspace, callback):
    """Start connecting and agree on Meta's dialog; the callback address it sends the
    browser back to, not yet visited."""
    start = client.post(f"/accounts/{network}/connect/", {"workspace": workspace.pk})
    assert start.status_code == 302, start.content
    consent = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == callback
    return f"{back.path}?{back.query}"


def test_the_sign_in_asks_for_what_publishing_to_pages_needs(
    meta, person, client, staff, workspace
):
    start = client.post("/accounts/facebook/connect/", {"workspace": workspace.pk})
    query = parse_qs(urlsplit(start["Location"]).query)

    assert start["Location"].startswith(f"{meta.url}/v27.0/dialog/oauth?")
    assert query["redirect_uri"] == [FACEBOOK_CALLBACK]
    assert set(query["scope"][0].split(",")) >= {"pages_manage_posts", "pages_show_list"}
    assert query["state"]


def test_staff_choose_which_pages_of_the_sign_in_to_connect(meta, person, client, staff, workspace):
    choose = client.get(
        sign_in(client, network="facebook", workspace=workspace, callback=FACEBOOK_CALLBACK)
    )
    assert choose.status_code == 302, choose.content
    page = client.get(choose["Location"])
    assert "Bakery" in page.content.decode() and "Cafe" in page.content.decode()
    # The Page tokens wait encrypted on the server; the page shows names only.
    assert "EAA" not in page.content.decode() and "EAA" not in choose["Location"]
    cafe = person["pages"][1]

    done = client.post(choose["Location"], {"accounts": [cafe["id"]]})

    assert done.status_code == 302, done.content
    [account] = SocialAccount.objects.filter(network="facebook")
    assert (account.external_id, account.display_name, account.workspace) == (
        cafe["id"],
        "Cafe",
        workspace,
    )
    credentials = social_account_credentials(account=account)
    assert credentials["access_token"] not in account.credentials
    # The Page token works on the Graph API, for that Page.
    posted = requests.post(
        f"{meta.url}/v27.0/{cafe['id']}/feed",
        data={"message": "hi", "access_token": credentials["access_token"]},
        timeout=5,
    )
    assert posted.status_code == 200
    # The code and the long-lived exchange, once each.
    assert meta.control.stats()["token_exchanges"] == {"code": 1, "long_lived": 1}


def test_several_pages_are_connected_at_once(meta, person, client, staff, workspace):
    choose = client.get(
        sign_in(client, network="facebook", workspace=workspace, callback=FACEBOOK_CALLBACK)
    )

    client.post(choose["Location"], {"accounts": [page["id"] for page in person["pages"]]})

    assert sorted(SocialAccount.objects.values_list("display_name", flat=True)) == [
        "Bakery",
        "Cafe",
    ]


def test_an_offer_is_spent_once_connected(meta, person, client, staff, workspace):
    choose = client.get(
        sign_in(client, network="facebook", workspace=workspace, callback=FACEBOOK_CALLBACK)
    )
    bakery = person["pages"][0]
    client.post(choose["Location"], {"accounts": [bakery["id"]]})

    again = client.post(choose["Location"], {"accounts": [bakery["id"]]})

    assert again.status_code == 400
    assert SocialAccount.objects.filter(network="facebook").count() == 1


def test_another_person_cannot_use_the_offer(meta, person, client, staff, workspace):
    choose = client.get(
        sign_in(client, network="facebook", workspace=workspace, callback=FACEBOOK_CALLBACK)
    )
    client.force_login(UserFactory(is_staff=True))

    response = client.get(choose["Location"])

    assert response.status_code == 400
    assert not SocialAccount.objects.exists()


def test_an_altered_state_is_refused_and_nothing_is_exchanged(
    meta, person, client, staff, workspace
):
    callback = sign_in(client, network="facebook", workspace=workspace, callback=FACEBOOK_CALLBACK)

    response = client.get(callback.replace("state=", "state=x"))

    assert response.status_code == 400
    assert "altered" in response.content.decode()
    assert meta.control.stats()["token_exchanges"] == {}
    assert not SocialAccount.objects.exists()


def test_a_refused_dialog_connects_nothing(meta, person, client, staff, workspace):
    meta.control.reset()
    someone = meta.control.create_person()
    meta.control.create_page(user_id=someone["id"], name="Bakery")
    start = client.post("/accounts/facebook/connect/", {"workspace": workspace.pk})
    # Nobody signed in on Meta's side: the dialog answers access_denied.
    consent = requests.get(start["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(consent.headers["location"])

    response = client.get(f"{back.path}?{back.query}")

    assert response.status_code == 400 and "access_denied" in response.content.decode()


def test_instagram_offers_the_accounts_linked_to_the_pages(meta, person, client, staff, workspace):
    choose = client.get(
        sign_in(client, network="instagram", workspace=workspace, callback=INSTAGRAM_CALLBACK)
    )
    page = client.get(choose["Location"]).content.decode()
    cafe = person["pages"][1]
    assert "kairos.cafe" in page
    assert "Bakery" not in page

    client.post(choose["Location"], {"accounts": [cafe["instagram_id"]]})

    [account] = SocialAccount.objects.filter(network="instagram")
    assert (account.external_id, account.handle) == (cafe["instagram_id"], "kairos.cafe")
    assert social_account_credentials(account=account)["page_id"] == cafe["id"]


def test_a_sign_in_without_instagram_accounts_says_what_to_link(
    meta, client, staff, workspace, settings
):
    settings.INSTAGRAM_REDIRECT_URI = INSTAGRAM_CALLBACK
    someone = meta.control.create_person()
    meta.control.create_page(user_id=someone["id"], name="Plain Page")
    meta.control.log_in(someone["id"])

    response = client.get(
        sign_in(client, network="instagram", workspace=workspace, callback=INSTAGRAM_CALLBACK)
    )

    assert response.status_code == 400
    assert "Link the Instagram account to a Facebook Page" in response.content.decode()


@pytest.mark.parametrize("network", ["facebook", "instagram"])
def test_the_api_starts_the_same_sign_in(meta, person, client, staff, workspace, network):
    answer = client.post(
        f"/api/v1/{network}/connect/", {"workspace": workspace.pk}, content_type="application/json"
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["authorize_url"].startswith(f"{meta.url}/v27.0/dialog/oauth?")


def test_the_api_says_when_no_meta_app_is_set(meta, client, staff, workspace, settings):
    settings.META_APP_ID = ""

    for network in ("facebook", "instagram"):
        answer = client.post(
            f"/api/v1/{network}/connect/",
            {"workspace": workspace.pk},
            content_type="application/json",
        )

        assert answer.status_code == 403
        assert answer.json()["setting"] == "META_APP_ID"
        assert "META_APP_ID" in answer.json()["detail"]
