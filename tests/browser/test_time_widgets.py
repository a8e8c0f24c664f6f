"""The composer's "Now" and "Today" read the clock of the zone chosen on the form
(posts/static/posts/zone_now.js), not the browser's or the server's."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership
from tests.browser.test_posts_admin import field

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Far from every zone used below, so a widget reading the browser's clock is caught.
BROWSER_ZONE = "Pacific/Honolulu"


@pytest.fixture
def page(open_page) -> Page:
    return open_page(timezone_id=BROWSER_ZONE)


def assert_now_in(page: Page, zone: str) -> None:
    """Today and Now fill in the date and time of `zone` (within the test's run)."""
    before = datetime.now(ZoneInfo(zone)).replace(microsecond=0, tzinfo=None)
    page.locator(".field-schedule_local_date").get_by_role("link", name="Today").click()
    page.locator(".field-schedule_local_time").get_by_role("link", name="Now").click()
    after = datetime.now(ZoneInfo(zone)).replace(microsecond=0, tzinfo=None)
    date = field(page, "schedule_local_date").input_value()
    time = field(page, "schedule_local_time").input_value()
    filled = datetime.fromisoformat(f"{date}T{time}")
    assert before - timedelta(seconds=1) <= filled <= after + timedelta(seconds=1), (zone, filled)


def test_now_and_today_fill_in_the_time_of_the_zone_on_the_form(page, login_as, screenshot):
    login_as(
        Membership.Role.EDITOR, workspace__name="Acme", workspace__default_timezone="Asia/Tokyo"
    )
    page.goto("/admin/posts/post/add/")
    field(page, "workspace").select_option(label="Acme")

    # No zone typed: the workspace's default.
    assert_now_in(page, "Asia/Tokyo")
    field(page, "schedule_timezone").fill("America/New_York")
    assert_now_in(page, "America/New_York")
    field(page, "schedule_timezone").fill("Asia/Kolkata")
    assert_now_in(page, "Asia/Kolkata")
    expect(page.locator(".field-schedule_local_time .timezonewarning")).to_have_count(0)
    screenshot(page, "composer-now-in-zone")
