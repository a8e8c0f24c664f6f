"""The calendar page (templates/admin/calendar.html over publishing/views.calendar_feed),
looked at, clicked and dragged in a browser."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from accounts.models import Membership
from publishing import dispatch
from publishing.execution import job_execute
from publishing.models import JobStatus, PublishJob, SandboxPost
from publishing.plans import schedule_set
from scheduling.models import Schedule
from tests.factories import PostFactory, SandboxAccountFactory
from tests.scheduling.factories import PostingLimitFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = "Europe/Paris"


def _scheduled(account, *, text: str, at: datetime):
    """A post to `account` scheduled once at the wall time `at` in ZONE."""
    post = PostFactory(workspace=account.workspace, accounts=[account], texts=[text])
    schedule_set(
        post=post,
        kind=Schedule.Kind.ONCE,
        local_date=at.date(),
        local_time=at.time(),
        timezone_name=ZONE,
        actor=None,
    )
    return post


def _event(page: Page, text: str) -> Locator:
    return page.locator("a.fc-event", has_text=text)


def _day(page: Page, day) -> Locator:
    return page.locator(f"td.fc-daygrid-day[data-date='{day:%Y-%m-%d}']")


def _drag(page: Page, source: Locator, target: Locator) -> None:
    """Drag as a hand does: press, move in steps (FullCalendar waits for real movement),
    release."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=15)
    page.mouse.up()


def _login(login_as):
    member = login_as(
        Membership.Role.EDITOR,
        username="editor",
        workspace__name="Acme",
        workspace__default_timezone=ZONE,
    )
    return member, SandboxAccountFactory(workspace=member.workspace, handle="acme")


def test_a_post_dragged_a_day_later_publishes_on_the_sandbox_at_the_new_time(
    page, login_as, screenshot
):
    _, account = _login(login_as)
    day = timezone.now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=2)
    post = _scheduled(account, text="Launch day", at=datetime.combine(day, time(10, 0)))

    page.goto("/admin/")
    page.get_by_role("link", name="Calendar").click()
    page.goto(f"/admin/calendar/?date={day:%Y-%m-%d}")
    event = _event(page, "@acme · Launch day")
    expect(event).to_be_visible()
    expect(_day(page, day).locator("a.fc-event")).to_have_count(1)
    expect(event).to_have_attribute("title", f"@acme (Sandbox) · scheduled · {day} 10:00 {ZONE}")

    _drag(page, event, _day(page, day + timedelta(days=1)))

    expect(page.locator("#calendar-message")).to_have_text(
        f"Post #{post.pk} moved to {day + timedelta(days=1)} 10:00 {ZONE}."
    )
    expect(_day(page, day + timedelta(days=1)).locator("a.fc-event")).to_have_count(1)
    expect(_day(page, day).locator("a.fc-event")).to_have_count(0)
    screenshot(page, "calendar-month")

    due = Schedule.objects.get(post=post).next_occurrence_at
    assert due == datetime.combine(day + timedelta(days=1), time(10), ZoneInfo(ZONE))
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        dispatch.tick()
    assert not PublishJob.objects.filter(post=post).exists()  # not at the old time
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        dispatch.tick()
        [job] = PublishJob.objects.filter(post=post)
        assert job_execute(job_id=job.pk) == "published"
    job.refresh_from_db()
    assert job.occurrence_at == due
    assert due <= job.published_at < due + timedelta(seconds=5)
    assert SandboxPost.objects.get(account=account).text == "Launch day"

    page.reload()
    expect(_event(page, "@acme · Launch day")).to_have_attribute("data-status", "published")


def test_a_day_over_an_accounts_daily_limit_is_marked(page, login_as, screenshot):
    _, account = _login(login_as)
    day = timezone.now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=1)
    for hour, text in ((9, "Morning news"), (12, "Lunch offer"), (17, "Evening recap")):
        _scheduled(account, text=text, at=datetime.combine(day, time(hour)))
    # The limit came after the plan: as drawn, it cannot all go out.
    PostingLimitFactory(account=account, max_per_day=2)

    page.goto(f"/admin/calendar/?date={day:%Y-%m-%d}&view=week")

    # In the week view the mark is in the all-day row (and shades the day's column).
    mark = page.locator(".fc-daygrid-day .kairos-limit")
    expect(mark).to_have_count(1)
    expect(_day(page, day).locator(".kairos-limit")).to_have_count(1)
    expect(mark).to_contain_text("3/2 @acme")
    expect(page.locator("a.fc-event")).to_have_count(3)
    screenshot(page, "calendar-week")


def test_a_running_posts_drag_is_refused_with_the_reason(page, login_as):
    _, account = _login(login_as)
    now = timezone.now()
    wall = (
        (now + timedelta(hours=1))
        .astimezone(ZoneInfo(ZONE))
        .replace(second=0, microsecond=0, tzinfo=None)
    )
    post = _scheduled(account, text="Going out now", at=wall)
    due = Schedule.objects.get(post=post).next_occurrence_at
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        dispatch.tick()
    PublishJob.objects.filter(post=post).update(status=JobStatus.RUNNING)

    page.goto(f"/admin/calendar/?date={wall:%Y-%m-%d}")
    event = _event(page, "@acme · Going out now")
    expect(event).to_have_attribute("data-status", "running")
    _drag(page, event, _day(page, wall.date() + timedelta(days=1)))

    expect(page.locator("#calendar-message")).to_have_text(
        "Not moved: It is being published to @acme (Sandbox) right now; wait for its outcome."
    )
    expect(_day(page, wall.date()).locator("a.fc-event")).to_have_count(1)
    expect(_day(page, wall.date() + timedelta(days=1)).locator("a.fc-event")).to_have_count(0)
    assert Schedule.objects.get(post=post).next_occurrence_at is None


def test_a_free_slot_opens_the_composer_at_that_time_and_zone(page, login_as):
    _login(login_as)
    day = timezone.now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=3)

    page.goto(f"/admin/calendar/?date={day:%Y-%m-%d}")
    _day(page, day).click(position={"x": 10, "y": 40})

    expect(page).to_have_url(
        re.compile(
            re.escape(
                f"/admin/posts/post/add/?schedule_local_date={day:%Y-%m-%d}"
                "&schedule_local_time=09%3A00%3A00&schedule_timezone=Europe%2FParis"
            )
            + "$"
        )
    )
    expect(page.locator("[name='schedule_local_date']")).to_have_value(f"{day:%Y-%m-%d}")
    expect(page.locator("[name='schedule_local_time']")).to_have_value("09:00:00")
    expect(page.locator("[name='schedule_timezone']")).to_have_value(ZONE)
