"""The composer's live counter and preview (posts/static/posts/composer_preview.js),
typed in a browser, followed to the posts on the sandbox and on the fake X."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from accounts.models import Membership
from posts.media import media_asset_create
from posts.models import Post
from publishing import dispatch
from publishing.execution import job_execute
from publishing.models import SandboxPost
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_posts_admin import ZONE, field, save
from tests.factories import SandboxAccountFactory
from tests.media_files import image_upload
from tests.x_oauth import x_account_with_fresh_tokens, x_app_configure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST = "Launch day! Kairos goes live today: https://example.com/launch"
SECOND = "Part two: what comes next 🎉"
SANDBOX_TEXT = "Launch day, told the sandbox's way."


def counter(page: Page, account, part: int):
    return page.locator(f"#kairos-preview [data-account='{account.pk}'] .kairos-counter").nth(part)


def test_an_x_thread_with_an_image_is_counted_previewed_and_published_once(
    page, live_server, login_as, screenshot, settings, monkeypatch, fake_x, tmp_path
):
    x_app_configure(fake_x, settings, monkeypatch)
    member = login_as(Membership.Role.EDITOR, username="editor", workspace__name="Acme")
    x = x_account_with_fresh_tokens(fake_x, workspace=member.workspace, username="acme")
    sandbox = SandboxAccountFactory(workspace=member.workspace, handle="acme_sandbox")
    photo = tmp_path / "launch.png"
    Image.new("RGB", (640, 360), (30, 120, 200)).save(photo)
    at = (timezone.now() + timedelta(minutes=2)).astimezone(ZoneInfo(ZONE)).replace(microsecond=0)

    page.goto("/admin/posts/post/add/")
    field(page, "workspace").select_option(label="Acme")
    page.get_by_role("checkbox", name="@acme (X)").check()
    page.get_by_role("checkbox", name="@acme_sandbox (Sandbox)").check()
    part_one = field(page, "parts-0-text")
    part_one.press_sequentially("Launch")
    # X's count, from the server: six letters.
    expect(counter(page, x, 0)).to_have_text("6 / 280")
    part_one.fill(FIRST)
    # The link counts 23 whatever its length, as X counts it.
    expect(counter(page, x, 0)).to_have_text(
        f"{len(FIRST) - len('https://example.com/launch') + 23} / 280"
    )
    part_one.fill("a" * 285)
    expect(counter(page, x, 0)).to_have_text("285 / 280 — 5 over")
    expect(counter(page, x, 0)).to_have_class(re.compile("kairos-counter-over"))
    expect(
        page.locator(f"#kairos-preview section[data-account='{x.pk}'] .errorlist")
    ).to_contain_text("counts 285 of X's 280 characters")
    part_one.fill(FIRST)
    expect(counter(page, x, 0)).not_to_have_class(re.compile("kairos-counter-over"))
    field(page, "parts-0-uploads").set_input_files(photo)
    page.locator("#parts-group").get_by_role("button", name=re.compile("^Add another")).click()
    field(page, "parts-1-text").fill(SECOND)
    page.get_by_text("Text per account").click()
    field(page, f"text_for_{sandbox.pk}").fill(SANDBOX_TEXT)
    field(page, "schedule_local_date").fill(f"{at:%Y-%m-%d}")
    field(page, "schedule_local_time").fill(f"{at:%H:%M:%S}")
    field(page, "schedule_timezone").fill(ZONE)

    on_x = page.locator(f"#kairos-preview section[data-account='{x.pk}']")
    on_sandbox = page.locator(f"#kairos-preview section[data-account='{sandbox.pk}']")
    expect(on_x.locator(".kairos-preview-part")).to_have_count(2)
    expect(on_x.locator(".kairos-preview-part").nth(0)).to_contain_text(FIRST)
    expect(on_x.locator(".kairos-preview-part").nth(0).locator("img")).to_have_count(1)
    expect(on_x.locator(".kairos-preview-part").nth(1)).to_contain_text(SECOND)
    expect(on_x.locator(".kairos-preview-part").nth(1).locator("img")).to_have_count(0)
    expect(counter(page, x, 1)).to_have_text("28 / 280")  # the emoji counts 2
    expect(on_sandbox.locator(".kairos-preview-part").nth(0)).to_contain_text(SANDBOX_TEXT)
    expect(on_sandbox).to_contain_text("own text")
    expect(on_x.locator(".errorlist")).to_have_count(0)
    screenshot(page, "composer-thread")
    page.locator("#kairos-preview").screenshot(path=SCREENSHOTS / "composer-preview.png")
    save(page)

    expect(page.locator(".messagelist")).to_contain_text(f"Scheduled for {at:%Y-%m-%d %H:%M:%S}")
    post = Post.objects.get()
    due = post.schedule.next_occurrence_at
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        dispatch.tick(now=due)
        assert sorted(job_execute(job_id=job.pk) for job in post.jobs.all()) == [
            "published",
            "published",
        ]

    assert len(fake_x.control.posts(user_id=x.external_id)) == 2
    assert fake_x.control.posts_created(x.external_id, FIRST) == 1
    assert fake_x.control.posts_created(x.external_id, SECOND) == 1
    assert len(fake_x.control.media(user_id=x.external_id)) == 1
    assert [p.text for p in SandboxPost.objects.order_by("pk")] == [SANDBOX_TEXT, SECOND]

    # A viewer of the workspace reads the post, with nothing to press.
    page.context.clear_cookies()
    login_as(Membership.Role.VIEWER, workspace=member.workspace)
    page.goto(f"/admin/posts/post/{post.pk}/change/")
    expect(page.get_by_role("heading", name="View post")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("button", name="Move this part up")).to_have_count(0)
    expect(page.locator("#kairos-preview")).to_have_count(0)
    page.goto("/admin/posts/post/")
    expect(page.locator("select[name='action'] option").filter(has_not_text="---")).to_have_count(0)


def test_a_parts_files_are_put_in_order_with_their_arrows(page, login_as, screenshot):
    member = login_as(Membership.Role.EDITOR, workspace__name="Acme")
    account = SandboxAccountFactory(workspace=member.workspace, handle="acme")
    cat, dog = (
        media_asset_create(
            workspace=member.workspace, file=image_upload(f"{name}.png"), actor=None, alt_text=name
        )
        for name in ("cat", "dog")
    )

    page.goto("/admin/posts/post/add/")
    field(page, "workspace").select_option(label="Acme")
    page.get_by_role("checkbox", name="@acme (Sandbox)").check()
    field(page, "parts-0-text").fill("Two pets")
    row = page.locator("#parts-group tr.form-row").first
    for asset in (cat, dog):
        row.locator(f"input[name='parts-0-files'][value='{asset.pk}']").check()
    files = page.locator(f"#kairos-preview section[data-account='{account.pk}'] img")
    expect(files).to_have_count(2)
    # The library lists the newest first; the page's order is what goes out.
    expect(files.nth(0)).to_have_attribute("alt", "dog")
    cat_option = row.locator("div", has=page.locator(f"input[value='{cat.pk}']")).last
    cat_option.get_by_role("button", name="Move this file up").click()
    expect(files.nth(0)).to_have_attribute("alt", "cat")
    screenshot(page, "composer-file-order")
    save(page)

    part = Post.objects.get().parts.get()
    expect(page.locator(".messagelist")).to_be_visible()
    assert list(part.media.order_by("partmedia__position")) == [cat, dog]
