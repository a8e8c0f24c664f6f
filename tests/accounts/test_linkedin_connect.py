"""Connecting LinkedIn end to end: Kairos, the browser and the fake LinkedIn over real
HTTP. One sign-in brings the member and the organizations they administer; staff choose
which to connect, each kept with the sign-in's token (encrypted) and its own author."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from accounts.models import SocialAccount
from accounts.services import social_account_credentials
from tests.accounts.test_oauth import staff_member
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/accounts/linkedin/callback/"


@pytest.fixture
def person(linkedin, settings):
    """A member administering one organization (and merely a member of another), signed in
    on the fake's consent page."""
    settings.LINKEDIN_REDIRECT_URI = CALLBACK
    member = linkedin.control.create_member(name="Ada Lovelace")
    bakery = linkedin.control.create_organization(name="Kairos Bakery", admin_id=member["id"])
    linkedin.control.create_organization(
        name="Analyst Guild", admin_id=member["id"], role="ANALYST"
    )
    linkedin.control.log_in(member["id"])
    return {"member": member, "bakery": bakery}


@pytest.fixture
def workspace():
    return WorkspaceFactory()


@pytest.fixture
def staff(client, workspace):
    user = staff_member(workspace=workspace)
    client.force_login(user)
    return user


def sign_in(client, *, workspace):
    """Start connecting and allow on LinkedIn; the callback it sends the browser back to."""
    start = client.post("/accounts/linkedin/connect/", {"workspace": workspace.pk})
    assert start.status_code == 302, start.content
    consent = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return f"{back.path}?{back.query}"


def test_the_sign_in_asks_for_the_scopes_of_posting(linkedin, person, client, staff, workspace):
    start = client.post("/accounts/linkedin/connect/", {"workspace": workspace.pk})
    query = parse_qs(urlsplit(start["Location"]).query)

    assert start["Location"].startswith(f"{linkedin.url}/oauth/v2/authorization?")
    assert query["redirect_uri"] == [CALLBACK] and query["response_type"] == ["code"]
    assert {"openid", "w_member_social", "w_organization_social"} <= set(query["scope"][0].split())
    assert query["state"]


def test_staff_choose_the_member_and_the_organizations_they_administer(
    linkedin, person, client, staff, workspace
):
    choose = client.get(sign_in(client, workspace=workspace))
    assert choose.status_code == 302, choose.content
    page = client.get(choose["Location"]).content.decode()
    assert "Ada Lovelace" in page and "Kairos Bakery" in page
    # An analyst may not post for the organization: it is not offered.
    assert "Analyst Guild" not in page
    assert "AQV" not in page and "AQV" not in choose["Location"]

    done = client.post(
        choose["Location"], {"accounts": [person["member"]["urn"], person["bakery"]["urn"]]}
    )

    assert done.status_code == 302, done.content
    accounts = {a.external_id: a for a in SocialAccount.objects.filter(network="linkedin")}
    assert set(accounts) == {person["member"]["urn"], person["bakery"]["urn"]}
    bakery = accounts[person["bakery"]["urn"]]
    credentials = social_account_credentials(account=bakery)
    assert credentials["author"] == person["bakery"]["urn"]
    assert credentials["access_token"] not in bakery.credentials
    # 60 days, as LinkedIn said; no refresh token for an app that is not a partner.
    assert 59 <= (bakery.token_expires_at - bakery.created_at).days <= 60
    assert "refresh_token" not in credentials
    assert linkedin.control.stats()["token_exchanges"] == {"authorization_code": 1}


def test_an_altered_state_is_refused_and_nothing_is_exchanged(
    linkedin, person, client, staff, workspace
):
    callback = sign_in(client, workspace=workspace)

    response = client.get(callback.replace("state=", "state=x"))

    assert response.status_code == 400
    assert "altered" in response.content.decode()
    assert linkedin.control.stats()["token_exchanges"] == {}
    assert not SocialAccount.objects.exists()


def test_a_cancelled_sign_in_connects_nothing(linkedin, person, client, staff, workspace):
    linkedin.control.log_in(None)

    response = client.get(sign_in(client, workspace=workspace))

    assert response.status_code == 400 and "user_cancelled" in response.content.decode()
    assert not SocialAccount.objects.exists()


def test_without_organization_scopes_only_the_member_is_offered(
    linkedin, person, client, staff, workspace
):
    linkedin.control.log_in(
        person["member"]["id"], granted_scopes=["openid", "profile", "w_member_social"]
    )
    choose = client.get(sign_in(client, workspace=workspace))

    page = client.get(choose["Location"]).content.decode()

    assert "Ada Lovelace" in page and "Kairos Bakery" not in page


def test_the_api_starts_the_same_sign_in(linkedin, person, client, staff, workspace):
    answer = client.post(
        "/api/v1/linkedin/connect/", {"workspace": workspace.pk}, content_type="application/json"
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["authorize_url"].startswith(f"{linkedin.url}/oauth/v2/authorization?")


def test_the_api_says_when_no_linkedin_app_is_set(linkedin, client, staff, workspace, settings):
    settings.LINKEDIN_CLIENT_ID = ""

    answer = client.post(
        "/api/v1/linkedin/connect/", {"workspace": workspace.pk}, content_type="application/json"
    )

    assert answer.status_code == 403
    assert answer.json()["setting"] == "LINKEDIN_CLIENT_ID"
    assert "LINKEDIN_CLIENT_ID" in answer.json()["detail"]


def test_the_accounts_list_links_to_the_connect_page_that_explains_the_sign_in(
    linkedin, client, staff
):
    listing = client.get("/admin/accounts/socialaccount/").content.decode()
    page = client.get("/accounts/linkedin/connect/")

    assert 'href="/accounts/linkedin/connect/"' in listing
    assert page.status_code == 200 and "60 days" in page.content.decode()
