"""The post list's Import and Export buttons: the CSV of import_posts / export_posts,
through the same resource, scoped to the person's workspaces."""

from datetime import UTC, datetime

import pytest
import tablib
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Membership
from posts.models import Post
from publishing.post_csv import COLUMNS
from tests.factories import MembershipFactory, PostFactory, SandboxAccountFactory
from tests.post_rows import posts_csv

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def editor(client):
    membership = MembershipFactory(role=Membership.Role.EDITOR)
    SandboxAccountFactory(workspace=membership.workspace, handle="brand_news")
    client.force_login(membership.user)
    return membership


def _upload(client, rows: list[dict]):
    upload = SimpleUploadedFile("posts.csv", posts_csv(rows).encode(), "text/csv")
    return client.post(
        reverse("admin:posts_post_import"),
        {"resource": 0, "format": 0, "import_file": upload},
    )


def _row(workspace, **changes) -> dict:
    return {
        "workspace": workspace.slug,
        "accounts": "@brand_news",
        "text": "From the admin's import\n---\nsecond part",
        "date": "2026-06-02",
        "time": "09:30",
        "timezone": "Europe/Paris",
        **changes,
    }


@time_machine.travel(NOW, tick=False)
def test_import_previews_then_creates_on_confirm(client, editor):
    preview = _upload(client, [_row(editor.workspace)])

    assert preview.status_code == 200
    assert Post.objects.count() == 0
    confirm = preview.context["confirm_form"]
    assert confirm is not None
    done = client.post(reverse("admin:posts_post_process_import"), confirm.initial)

    assert done.status_code == 302
    post = Post.objects.get()
    assert post.author == editor.user and post.status == Post.Status.SCHEDULED
    assert [part.text for part in post.parts.all()] == ["From the admin's import", "second part"]
    assert post.schedule.next_occurrence_at == datetime(2026, 6, 2, 7, 30, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_import_shows_row_errors_and_offers_no_confirm(client, editor):
    other = MembershipFactory().workspace

    preview = _upload(
        client, [_row(editor.workspace), _row(other), _row(editor.workspace, time="25:00")]
    )

    assert preview.context.get("confirm_form") is None
    page = preview.content.decode()
    assert f"No workspace “{other.slug}” found." in page
    assert "is no time; write HH:MM or HH:MM:SS." in page
    assert Post.objects.count() == 0


def test_export_writes_the_posts_the_person_sees(client, editor):
    mine = PostFactory(
        workspace=editor.workspace,
        texts=["one", "two"],
        accounts=list(editor.workspace.accounts.all()),
    )
    PostFactory(texts=["someone else's"])

    response = client.post(
        reverse("admin:posts_post_export"),
        {"resource": 0, "format": 0, **{f"postresource_{column}": "on" for column in COLUMNS}},
    )

    assert response.status_code == 200
    exported = tablib.Dataset().load(response.content.decode(), format="csv")
    assert exported.dict == [
        {
            **dict.fromkeys(COLUMNS, ""),
            "workspace": mine.workspace.slug,
            "accounts": "sandbox:@brand_news",
            "text": "one\n---\ntwo",
            "priority": "normal",
        }
    ]


def test_a_viewer_may_export_but_not_import(client):
    viewer = MembershipFactory(role=Membership.Role.VIEWER)
    client.force_login(viewer.user)

    changelist = client.get(reverse("admin:posts_post_changelist")).content.decode()

    assert reverse("admin:posts_post_export") in changelist
    assert reverse("admin:posts_post_import") not in changelist
    assert client.get(reverse("admin:posts_post_import")).status_code == 403
    assert client.get(reverse("admin:posts_post_export")).status_code == 200
