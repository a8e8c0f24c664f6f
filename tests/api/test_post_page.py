"""The posts list's page built from plain rows (posts/api_page.py) is PostSerializer's
answer, field for field, whatever the posts hold."""

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.test import RequestFactory
from rest_framework.request import Request

from posts.api import POST_PREFETCH, PostSerializer
from posts.api_page import posts_page_represent
from posts.media import media_asset_create
from posts.models import PartMedia, Post, Tag
from publishing.models import JobStatus
from publishing.plans import schedule_set
from scheduling.api import ScheduleSerializer
from scheduling.services import schedule_occurrence_skip
from tests.api.conftest import key_client
from tests.factories import (
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
    schedule_once_at,
)
from tests.media_files import image_upload

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 13, 12, 0, tzinfo=UTC)


def varied_posts(workspace) -> None:
    """Posts unlike each other: a thread with files out of their library order, own
    texts, tags out of name order, jobs in several states, no schedule, a once schedule
    and a weekly one with a skipped week, a campaign-less draft with text variants."""
    first, second = SandboxAccountFactory.create_batch(2, workspace=workspace)
    zebra = Tag.objects.create(workspace=workspace, name="zebra")
    apple = Tag.objects.create(workspace=workspace, name="apple")

    thread = PostFactory(workspace=workspace, texts=["One", "Two", "Three"])
    files = [
        media_asset_create(workspace=workspace, file=image_upload(), actor=None) for _ in range(3)
    ]
    part = thread.parts.get(position=1)
    for position, asset in enumerate(reversed(files)):
        PartMedia.objects.create(part=part, asset=asset, position=position)
    thread.targets.create(account=second, text_override="Second's own words")
    thread.targets.create(account=first)
    thread.tags.set([zebra, apple])
    schedule_once_at(thread, NOW + timedelta(days=1))

    published = PostFactory(workspace=workspace, accounts=[first], priority=5)
    published.tags.set([apple])
    PublishJobFactory(
        post=published,
        account=first,
        status=JobStatus.PUBLISHED,
        external_id="ext-1",
        external_url="https://example.com/1",
        published_at=NOW - timedelta(minutes=3),
    )
    PublishJobFactory(
        post=published,
        account=second,
        status=JobStatus.FAILED,
        error_kind="validation",
        error_message="Too long",
        occurrence_at=NOW - timedelta(days=2),
    )

    weekly = PostFactory(workspace=workspace, accounts=[second])
    schedule_set(
        post=weekly,
        kind="rrule",
        rrule="FREQ=WEEKLY;BYDAY=MO",
        local_date=date(2026, 10, 19),
        local_time=time(9, 30),
        timezone_name="Europe/Paris",
        actor=None,
    )
    skipped = weekly.schedule.next_occurrence_at
    schedule_occurrence_skip(schedule=weekly.schedule, occurrence_at=skipped, actor=None)

    Post.objects.create(workspace=workspace, text_variants={"x": "short"}, approval="in_review")


@pytest.fixture(autouse=True)
def media_folder(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@time_machine.travel(NOW, tick=False)
def test_the_page_is_what_post_serializer_answers():
    workspace = WorkspaceFactory()
    varied_posts(workspace)
    posts = list(
        Post.objects.filter(workspace=workspace)
        .select_related("schedule")
        .prefetch_related(*POST_PREFETCH)
        .order_by("-created_at", "-id")
    )
    request = Request(RequestFactory().get("/api/v1/posts/"))
    context = {"request": request}

    served = posts_page_represent(posts, schedule_serializer=ScheduleSerializer(context=context))
    expected = PostSerializer(posts, many=True, context=context).data

    assert len(served) == 4
    assert json.loads(json.dumps(served)) == json.loads(json.dumps(expected))


@time_machine.travel(NOW, tick=False)
def test_the_list_and_a_post_read_alone_agree():
    workspace = WorkspaceFactory()
    varied_posts(workspace)
    client = key_client(workspace, "read")

    listed = client.get("/api/v1/posts/").json()["results"]

    assert listed == [client.get(f"/api/v1/posts/{post['id']}/").json() for post in listed]
