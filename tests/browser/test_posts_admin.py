"""The post composer and post pages (posts/admin.py), clicked and typed in a browser."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership
from posts.models import Post
from publishing import dispatch
from publishing.execution import job_execute
from tests.factories import PostFactory, SandboxAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONE = "America/New_York"


def field(page: Page, name: str):
    return page.locator(f"[name='{name}']")


def compose(page: Page, *, workspace: str, account: str, texts: list[str], at: datetime) -> None:
    """Fills the composer as a person would: the workspace, the account, the parts (each
    added with "Add another", never numbered by hand) and a local date, time and zone."""
    field(page, "workspace").select_option(label=workspace)
    page.get_by_role("checkbox", name=account).check()
    parts = page.locator("#parts-group")
    for position, text in enumerate(texts):
        if position:
            parts.get_by_role("button", name=re.compile("^Add another")).click()
        field(page, f"parts-{position}-text").fill(text)
    field(page, "schedule_local_date").fill(f"{at:%Y-%m-%d}")
    field(page, "schedule_local_time").fill(f"{at:%H:%M:%S}")
    field(page, "schedule_timezone").fill(ZONE)


def save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).first.click()


def test_an_editor_schedules_a_thread_and_follows_it_to_the_published_post(
    page, live_server, login_as, screenshot, settings
):
    settings.KAIROS_PUBLIC_URL = live_server.url
    member = login_as(Membership.Role.EDITOR, username="editor", workspace__name="Acme")
    SandboxAccountFactory(workspace=member.workspace, handle="acme", display_name="Acme")
    at = (timezone.now() + timedelta(minutes=1)).astimezone(ZoneInfo(ZONE)).replace(microsecond=0)

    page.goto("/admin/posts/post/")
    page.get_by_role("link", name="Add post").click()
    compose(
        page,
        workspace="Acme",
        account="@acme (Sandbox)",
        # Typed in the wrong order, then put right with the part's ↑ button.
        texts=["Part two: how the thread continues.", "Launch day! Kairos goes live."],
        at=at,
    )
    page.locator("#parts-group tr.form-row").nth(1).get_by_role(
        "button", name="Move this part up"
    ).click()
    expect(page.locator("#parts-group .kairos-part-number").first).to_have_text("Part 1")
    screenshot(page, "composer-sandbox-thread")
    save(page)

    expect(page.locator(".messagelist")).to_contain_text(
        f"Scheduled for {at:%Y-%m-%d %H:%M:%S} {ZONE}"
    )
    screenshot(page, "composer-saved")

    post = Post.objects.get()
    due = post.schedule.next_occurrence_at
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        dispatch.tick(now=due)
        for job in post.jobs.all():
            assert job_execute(job_id=job.pk) == "published"

    page.locator("#result_list").get_by_role("link", name=str(post)).click()
    published = page.locator(".field-published_links a")
    expect(published).to_have_count(1)
    screenshot(page, "post-published")

    with page.context.expect_page() as opened:
        published.click()
    sandbox = opened.value
    sandbox.wait_for_load_state()
    expect(sandbox.locator("article")).to_have_count(2)
    expect(sandbox.locator("article").nth(0)).to_contain_text("Launch day! Kairos goes live.")
    expect(sandbox.locator("article").nth(1)).to_contain_text("Part two")
    screenshot(sandbox, "sandbox-thread")


def test_a_schedule_in_the_past_is_refused_on_the_form_and_nothing_is_saved(
    page, login_as, screenshot
):
    member = login_as(Membership.Role.EDITOR)
    SandboxAccountFactory(workspace=member.workspace, handle="late")
    at = (timezone.now() - timedelta(minutes=1)).astimezone(ZoneInfo(ZONE)).replace(microsecond=0)

    page.goto("/admin/posts/post/add/")
    compose(
        page,
        workspace=member.workspace.name,
        account="@late (Sandbox)",
        texts=["This one is too late."],
        at=at,
    )
    save(page)

    expect(page.locator(".field-schedule_local_time .errorlist")).to_contain_text(
        "has already passed"
    )
    expect(field(page, "parts-0-text")).to_have_value("This one is too late.")
    expect(page.get_by_role("checkbox", name="@late (Sandbox)")).to_be_checked()
    expect(page.get_by_text("Give both a date and a time")).to_have_count(0)
    screenshot(page, "composer-refused")
    assert not Post.objects.exists()


def test_a_viewer_sees_posts_but_can_change_nothing(page, login_as, screenshot):
    member = login_as(Membership.Role.VIEWER, username="viewer", workspace__name="Acme")
    account = SandboxAccountFactory(workspace=member.workspace, handle="brand")
    post = PostFactory(workspace=member.workspace, accounts=[account], texts=["Seen, not touched"])

    page.goto("/admin/posts/post/")
    expect(page.get_by_role("link", name=str(post))).to_be_visible()
    expect(page.get_by_role("link", name="Add post")).to_have_count(0)
    actions = page.locator("select[name='action'] option")
    expect(actions.filter(has_not_text="---")).to_have_count(0)
    screenshot(page, "viewer-posts")

    page.get_by_role("link", name=str(post)).click()
    expect(page.get_by_role("heading", name="View post")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.locator("textarea, input[type='text'], input[type='checkbox']")).to_have_count(0)
    expect(page.get_by_text("Seen, not touched", exact=True)).to_be_visible()
    screenshot(page, "viewer-post")
