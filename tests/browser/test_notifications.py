"""Notifications, as the editor whose posts failed on X finds them: one for the burst,
counted, in the header of every admin page, with a link that opens the post."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Membership
from accounts.services import workspace_create
from publishing import dispatch
from publishing.events import events_fan_out
from publishing.execution import job_execute
from publishing.plans import schedule_once
from tests.factories import PostFactory
from tests.x_oauth import x_account_with_fresh_tokens, x_app_configure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAILURES = 3


def test_a_burst_of_failures_is_one_notification_for_the_editor_with_a_working_link(
    page, login_as, screenshot, settings, monkeypatch, fake_x
):
    x_app_configure(fake_x, settings, monkeypatch)
    editor = login_as(Membership.Role.EDITOR, workspace__name="Acme")
    x = x_account_with_fresh_tokens(fake_x, workspace=editor.workspace, username="acme")
    # X refuses each post for a reason no retry mends: the app's credits ran out.
    fake_x.control.set_credits_depleted(True)
    # A workspace the editor is not in fails too; none of that reaches them.
    elsewhere = workspace_create(name="Elsewhere", owner=None)
    stranger = x_account_with_fresh_tokens(fake_x, workspace=elsewhere, username="other")
    due = (timezone.now() + timedelta(minutes=5)).replace(microsecond=0)
    posts = [
        PostFactory(workspace=editor.workspace, accounts=[x], texts=[f"Failing post {number}"])
        for number in range(1, FAILURES + 1)
    ]
    for post in posts:
        schedule_once(
            post=post,
            local_date=due.date(),
            local_time=due.time(),
            timezone_name="UTC",
            actor=editor.user,
        )

    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        dispatch.tick(now=due)
        outcomes = [job_execute(job_id=post.jobs.get().pk) for post in posts]
        assert outcomes == ["failed"] * FAILURES
        events_fan_out()

    page.goto("/admin/")
    header = page.locator("#kairos-notifications")
    expect(header).to_contain_text("(1 unread)")
    header.click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"A post failed on @acme (X) (×{FAILURES})")
    expect(page.get_by_text("@other")).to_have_count(0)
    assert stranger.workspace_id != editor.workspace_id
    screenshot(page, "notifications")

    rows.first.get_by_role("link", name="A post failed on @acme (X)").click()
    # The burst's link opens one of its failed posts, as an editor may change it.
    expect(page).to_have_url(re.compile(r"/admin/posts/post/\d+/change/$"))
    expect(page.locator("textarea[name='parts-0-text']")).to_have_value(
        re.compile(r"^Failing post \d$")
    )
    page.goto("/admin/")
    expect(page.locator("#kairos-notifications")).not_to_contain_text("unread")
