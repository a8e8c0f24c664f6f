"""The post list's Import button (posts/admin.py, publishing/post_resource.py), used in
a browser: a file with a refused row shows each refusal by row and column and offers
no confirmation; a good file previews, then is confirmed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Membership
from posts.models import Post
from tests.factories import SandboxAccountFactory
from tests.post_rows import posts_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_import_posts_from_csv_with_a_preview(page, login_as, screenshot, tmp_path):
    member = login_as(Membership.Role.EDITOR)
    SandboxAccountFactory(workspace=member.workspace, handle="brand_news")
    tomorrow = f"{timezone.now() + timedelta(days=1):%Y-%m-%d}"
    row = {
        "workspace": member.workspace.slug,
        "accounts": "@brand_news",
        "text": "Imported from a sheet\n---\nits second part",
        "date": tomorrow,
        "time": "09:30",
        "timezone": "Europe/Paris",
        "tags": "imported",
    }
    bad = tmp_path / "bad.csv"
    bad.write_text(posts_csv([row, {**row, "accounts": "@nobody"}, {**row, "time": "25:00"}]))
    good = tmp_path / "good.csv"
    good.write_text(posts_csv([row]))

    page.goto("/admin/posts/post/")
    page.get_by_role("link", name="Import").click()
    page.locator("[name='import_file']").set_input_files(bad)
    page.get_by_role("button", name="Submit").click()

    # The library numbers rows from the first post; each row's refusals show on hovering
    # its count, by column.
    counts = page.locator(".validation-error-count")
    expect(counts).to_have_count(2)
    counts.nth(1).hover()
    expect(page.get_by_text("“25:00” is no time; write HH:MM or HH:MM:SS.")).to_be_visible()
    counts.nth(0).hover()
    expect(page.get_by_text("@nobody is no account of")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    screenshot(page, "posts-import-errors")
    assert Post.objects.count() == 0

    page.locator("[name='import_file']").set_input_files(good)
    page.get_by_role("button", name="Submit").click()
    page.get_by_role("button", name="Confirm import").click()

    expect(page.get_by_text("Import finished")).to_be_visible()
    screenshot(page, "posts-import-done")
    post = Post.objects.get()
    assert post.status == Post.Status.SCHEDULED and post.author == member.user
