"""The post, job and schedule lists read on a 1,366 px laptop screen, with no sideways
scrolling, and a series shows as one row that says it goes on."""

from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership
from accounts.timezones import zone_get
from posts.models import Post
from publishing.models import JobStatus, PublishJob
from publishing.plans import schedule_set
from publishing.services import post_status_rollup
from scheduling.models import Schedule
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
LONG_TEXT = "A launch announcement long enough to fill a column " * 4
LONG_URL = "https://sandbox.example.com/" + "acme-brand-account/posts/" * 6 + "1234567890"


@pytest.fixture
def page(open_page) -> Page:
    return open_page(viewport=LAPTOP)


def assert_no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate(
        """() => {
            const results = document.querySelector('#changelist .results');
            return {
                page: document.documentElement.scrollWidth,
                window: document.documentElement.clientWidth,
                table: results ? results.scrollWidth : 0,
                box: results ? results.clientWidth : 0,
            };
        }"""
    )
    assert widths["page"] <= widths["window"], widths
    assert widths["table"] <= widths["box"], widths


def test_the_lists_fit_a_laptop_and_a_series_is_one_row(page, login_as, screenshot):
    member = login_as(Membership.Role.EDITOR, workspace__name="Acme Brand Worldwide")
    workspace = member.workspace
    account = SandboxAccountFactory(workspace=workspace, handle="acme_brand_worldwide")
    daily = PostFactory(workspace=workspace, accounts=[account], texts=[LONG_TEXT + "{n}"])
    start = (timezone.now() + timedelta(days=1)).astimezone(zone_get(workspace.default_timezone))
    schedule = schedule_set(
        post=daily,
        kind=Schedule.Kind.INTERVAL,
        every=1,
        unit=Schedule.Unit.DAYS,
        local_date=start.date(),
        local_time=time(9, 0),
        timezone_name=workspace.default_timezone,
        actor=None,
    )
    # Three occurrences went out already; the latest published.
    Schedule.objects.filter(pk=schedule.pk).update(occurrence_count=3)
    PublishJobFactory(
        post=daily,
        account=account,
        status=JobStatus.PUBLISHED,
        external_url=LONG_URL,
        published_at=timezone.now(),
    )
    post_status_rollup(post_id=daily.pk)
    for n in range(3):
        once = PostFactory(workspace=workspace, accounts=[account], texts=[f"{n} {LONG_TEXT}"])
        schedule_set(
            post=once,
            kind=Schedule.Kind.ONCE,
            local_date=date.today() + timedelta(days=2),
            local_time=time(10, n),
            timezone_name="America/Argentina/Buenos_Aires",
            actor=None,
        )

    page.goto("/admin/posts/post/")
    row = page.locator("#result_list tr").filter(has_text=f"#{daily.pk} ")
    expect(row.locator(".field-status_label")).to_have_text("Series goes on · last: Published")
    expect(row.locator(".field-when_label")).to_contain_text("Next ")
    expect(row.locator(".field-when_label")).to_contain_text("· 3 so far")
    assert Post.objects.get(pk=daily.pk).status == Post.Status.PUBLISHED
    assert_no_sideways_scroll(page)
    screenshot(page, "list-posts-1366")

    page.goto("/admin/publishing/publishjob/")
    expect(page.locator("#result_list")).to_contain_text("Open ↗")
    assert PublishJob.objects.count() == 1
    assert_no_sideways_scroll(page)
    screenshot(page, "list-jobs-1366")

    page.goto("/admin/scheduling/schedule/")
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    assert_no_sideways_scroll(page)
    screenshot(page, "list-schedules-1366")
