"""Approval and the dashboard, as an editor and an approver would use them."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership
from posts.models import Post
from publishing import dispatch
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from publishing.plans import schedule_once
from tests.browser.test_posts_admin import ZONE, compose, save
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("Logged out")).to_be_visible()


def count_on_dashboard(page: Page, label: str) -> int:
    row = page.locator("#dashboard-attention tr", has_text=label)
    return int(row.locator(".attention-count").inner_text())


def test_an_editor_submits_an_approver_approves_from_the_queue_and_it_goes_out(
    page, live_server, login_as, screenshot, settings
):
    settings.KAIROS_PUBLIC_URL = live_server.url
    editor = login_as(
        Membership.Role.EDITOR,
        username="editor",
        workspace__name="Acme",
        workspace__posts_need_approval=True,
    )
    workspace = editor.workspace
    account = SandboxAccountFactory(workspace=workspace, handle="acme", display_name="Acme")
    # Something else waiting for a person, so the dashboard has more than zeros to show.
    PublishJobFactory(
        post=PostFactory(workspace=workspace, texts=["An older post that failed"]),
        account=account,
        status=S.FAILED,
    )
    later = PostFactory(
        workspace=workspace,
        accounts=[account],
        texts=["Tomorrow's teaser"],
        approval=Post.Approval.APPROVED,
    )
    soon = timezone.now() + timedelta(hours=3)
    schedule_once(
        post=later, local_date=soon.date(), local_time=soon.time(), timezone_name="UTC", actor=None
    )
    at = (timezone.now() + timedelta(minutes=2)).astimezone(ZoneInfo(ZONE)).replace(microsecond=0)

    page.goto("/admin/posts/post/add/")
    compose(
        page,
        workspace="Acme",
        account="@acme (Sandbox)",
        texts=["Spring collection: out today."],
        at=at,
    )
    save(page)
    post = Post.objects.get(parts__text="Spring collection: out today.")
    page.goto(f"/admin/posts/post/{post.pk}/change/")
    screenshot(page, "post-approval-draft")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("sent for review")
    expect(page.locator(".field-approval_label")).to_contain_text("In review")
    log_out(page)

    login_as(Membership.Role.APPROVER, username="approver", workspace=workspace)
    page.goto("/admin/posts/post/")
    page.get_by_role("link", name="Approval queue").click()
    row = page.locator(f"#approval-queue tr[data-post='{post.pk}']")
    expect(row).to_contain_text("@acme (Sandbox)")
    expect(row).to_contain_text("editor")
    screenshot(page, "approval-queue")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".messagelist")).to_contain_text("approved; it goes out at its time")
    expect(page.get_by_text("Nothing waits for your approval")).to_be_visible()

    due = Post.objects.get(pk=post.pk).schedule.next_occurrence_at
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        dispatch.tick(now=due)
        for job in PublishJob.objects.filter(post=post):
            assert job_execute(job_id=job.pk) == "published"

    page.goto(f"/admin/posts/post/{post.pk}/change/")
    expect(page.locator(".field-published_links a")).to_have_count(1)
    trail = page.locator(".field-approval_trail")
    expect(trail).to_contain_text("Review requested · editor")
    expect(trail).to_contain_text("Approved · approver")
    screenshot(page, "post-approval-history")

    page.goto("/admin/")
    expect(page.locator("#dashboard-published")).to_contain_text("Spring collection")
    expect(page.locator("#dashboard-upcoming")).to_contain_text("Tomorrow's teaser")
    expect(page.locator("#dashboard-published a[target='_blank']")).to_have_count(1)
    assert count_on_dashboard(page, "Failed in the last 7 days") == (
        PublishJob.objects.filter(status=S.FAILED).count()
    )
    assert count_on_dashboard(page, "Posts waiting for approval") == (
        Post.objects.filter(approval=Post.Approval.IN_REVIEW).count()
    )
    assert count_on_dashboard(page, "Jobs needing review") == 0
    screenshot(page, "dashboard")
    page.locator("#dashboard-attention a", has_text="Failed in the last 7 days").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
