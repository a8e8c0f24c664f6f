"""Connecting LinkedIn in a browser: from the social accounts list to LinkedIn's consent
(the fake LinkedIn over real HTTP) and back to the page where staff choose the member
and the organizations they administer."""

import pytest
from playwright.sync_api import expect

from accounts.models import SocialAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_connects_an_organization_page(
    page, login_as, screenshot, linkedin, live_server, settings
):
    settings.LINKEDIN_REDIRECT_URI = f"{live_server.url}/accounts/linkedin/callback/"
    member = linkedin.control.create_member(name="Ada Lovelace")
    bakery = linkedin.control.create_organization(name="Kairos Bakery", admin_id=member["id"])
    linkedin.control.log_in(member["id"])
    owner = login_as("owner")

    page.goto("/admin/accounts/socialaccount/")
    page.get_by_role("link", name="Connect LinkedIn").click()
    expect(page.get_by_text("60 days")).to_be_visible()
    page.get_by_role("button", name="Continue to LinkedIn").click()

    expect(page.get_by_label("Kairos Bakery")).to_be_visible()
    expect(page.get_by_label("Ada Lovelace")).to_be_visible()
    screenshot(page, "linkedin-connect-choose")
    page.get_by_label("Kairos Bakery").check()
    page.get_by_role("button", name="Connect").click()

    expect(page.get_by_text("connected and publishing")).to_be_visible()
    account = SocialAccount.objects.get(network="linkedin")
    assert (account.external_id, account.workspace) == (bakery["urn"], owner.workspace)
