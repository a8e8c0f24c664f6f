"""Posts through the API: one atomic call composes and schedules, with the services the
admin uses; actions on posts and jobs; scoping by workspace and by key scopes."""

import gc
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from posts.models import Post, PostPart, Tag, Target
from publishing.models import JobStatus, PublishJob
from scheduling.models import Schedule
from tests.api.conftest import key_client
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
    schedule_once_at,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 13, 12, 0, tzinfo=UTC)


@pytest.fixture
def workspace():
    return WorkspaceFactory(default_timezone="Europe/Paris")


def thread_body(accounts, **extra):
    return {
        "parts": [{"text": "First, the news."}, {"text": "Then, the details."}],
        "targets": [
            {"account": accounts[0].pk},
            {"account": accounts[1].pk, "text": "News, for the second account."},
        ],
        "priority": 3,
        **extra,
    }


@time_machine.travel(NOW, tick=False)
def test_one_call_composes_a_thread_and_schedules_it_in_a_zone(workspace):
    accounts = SandboxAccountFactory.create_batch(2, workspace=workspace)
    tag = Tag.objects.create(workspace=workspace, name="launch")
    client = key_client(workspace, "write")
    body = thread_body(
        accounts,
        tags=[tag.pk],
        schedule={
            "kind": "once",
            "local_date": "2026-10-14",
            "local_time": "09:30:00",
            "timezone": "America/New_York",
        },
    )
    answer = client.post("/api/v1/posts/", body, format="json")
    assert answer.status_code == 201, answer.json()
    post = answer.json()
    assert post["status"] == "scheduled"
    assert post["workspace"] == workspace.pk
    assert [part["text"] for part in post["parts"]] == ["First, the news.", "Then, the details."]
    assert {t["account"]: t["text"] for t in post["targets"]} == {
        accounts[0].pk: "",
        accounts[1].pk: "News, for the second account.",
    }
    assert post["tags"] == [tag.pk]
    assert post["priority"] == 3
    assert post["schedule"]["next_occurrence_at"] == "2026-10-14T13:30:00Z"
    created = AuditEvent.objects.get(action="post.created")
    assert created.actor is None
    assert created.data["api_key"]["name"] == "integration"


@time_machine.travel(NOW, tick=False)
def test_an_invalid_schedule_keeps_nothing_and_names_the_field(workspace):
    accounts = SandboxAccountFactory.create_batch(2, workspace=workspace)
    client = key_client(workspace, "write")
    for schedule, said in [
        (
            {
                "kind": "once",
                "local_date": "2026-10-14",
                "local_time": "09:30",
                "timezone": "Mars/Base",
            },
            "timezone:",
        ),
        (
            {"kind": "once", "local_date": "2026-10-01", "local_time": "09:30"},
            "already passed",
        ),
        (
            {"kind": "cron", "local_date": "2026-10-14", "local_time": "09:30", "cron": "61 * *"},
            "cron",
        ),
    ]:
        answer = client.post(
            "/api/v1/posts/", thread_body(accounts, schedule=schedule), format="json"
        )
        assert answer.status_code == 400, answer.json()
        assert said in " ".join(answer.json()["schedule"])
    assert not Post.objects.exists()


def test_a_read_key_reads_but_cannot_write(workspace):
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account])
    job = PublishJobFactory(post=post, account=account, status=JobStatus.FAILED)
    client = key_client(workspace, "read")
    assert client.get(f"/api/v1/posts/{post.pk}/").status_code == 200
    body = {"parts": [{"text": "hi"}], "targets": [{"account": account.pk}]}
    assert client.post("/api/v1/posts/", body, format="json").status_code == 403
    assert (
        client.patch(f"/api/v1/posts/{post.pk}/", {"priority": 0}, format="json").status_code == 403
    )
    assert client.delete(f"/api/v1/posts/{post.pk}/").status_code == 403
    assert client.post(f"/api/v1/posts/{post.pk}/publish/").status_code == 403
    assert client.post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 403
    assert Post.objects.get(pk=post.pk).deleted_at is None


def test_a_write_key_cannot_publish_and_a_publish_key_cannot_compose(workspace):
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account])
    assert (
        key_client(workspace, "write").post(f"/api/v1/posts/{post.pk}/publish/").status_code == 403
    )
    publisher = key_client(workspace, "publish")
    answer = publisher.patch(f"/api/v1/posts/{post.pk}/", {"priority": 0}, format="json")
    assert answer.status_code == 403
    published = publisher.post(f"/api/v1/posts/{post.pk}/publish/", {}, format="json")
    assert published.status_code == 200, published.json()
    assert published.json()["post"]["jobs"][0]["status"] == "pending"


@time_machine.travel(NOW, tick=False)
def test_revise_reschedule_cancel_delete_and_restore(workspace):
    accounts = SandboxAccountFactory.create_batch(2, workspace=workspace)
    client = key_client(workspace, "write", "publish")
    post = client.post("/api/v1/posts/", thread_body(accounts), format="json").json()
    assert post["status"] == "draft"
    url = f"/api/v1/posts/{post['id']}/"
    changed = client.patch(url, {"parts": [{"text": "Only one part now."}]}, format="json")
    assert [part["text"] for part in changed.json()["parts"]] == ["Only one part now."]
    assert len(changed.json()["targets"]) == 2
    scheduled = client.post(
        f"{url}reschedule/",
        {"kind": "once", "local_date": "2026-10-15", "local_time": "08:00"},
        format="json",
    )
    assert scheduled.status_code == 200, scheduled.json()
    assert scheduled.json()["post"]["schedule"]["next_occurrence_at"] == "2026-10-15T06:00:00Z"
    assert client.post(f"{url}cancel/").json()["post"]["status"] == "cancelled"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    listed = client.get("/api/v1/posts/?deleted=true").json()["results"]
    assert [item["id"] for item in listed] == [post["id"]]
    assert client.post(f"{url}restore/").json()["post"]["status"] == "draft"


def test_job_actions_follow_the_job_states(workspace):
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account])
    job = PublishJobFactory(post=post, account=account, status=JobStatus.NEEDS_REVIEW)
    client = key_client(workspace, "publish")
    assert client.post(f"/api/v1/jobs/{job.pk}/retry/").json()["status"] == "pending"
    assert client.post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 409
    job.status = JobStatus.NEEDS_REVIEW
    job.save()
    refused = client.post(f"/api/v1/jobs/{job.pk}/mark-published/", {"url": "x"}, format="json")
    assert refused.status_code == 400
    assert "url" in refused.json()
    marked = client.post(
        f"/api/v1/jobs/{job.pk}/mark-published/",
        {"url": "https://sandbox.example/p/42"},
        format="json",
    )
    assert marked.json()["status"] == "published"
    assert marked.json()["external_url"] == "https://sandbox.example/p/42"


def test_lists_filter_and_page_with_a_cursor(workspace):
    account = SandboxAccountFactory(workspace=workspace)
    for _ in range(3):
        PostFactory(workspace=workspace, accounts=[account])
    PostFactory(workspace=workspace, status=Post.Status.FAILED)
    client = key_client(workspace, "read")
    page = client.get("/api/v1/posts/?page_size=2").json()
    assert len(page["results"]) == 2
    rest = client.get(page["next"]).json()
    assert len(rest["results"]) == 2 and rest["next"] is None
    failed = client.get("/api/v1/posts/?status=failed").json()["results"]
    assert [item["status"] for item in failed] == ["failed"]
    assert len(client.get(f"/api/v1/posts/?account={account.pk}").json()["results"]) == 3


def test_staff_name_the_workspace_when_they_have_several(client):
    first = MembershipFactory()
    MembershipFactory(user=first.user)
    account = SandboxAccountFactory(workspace=first.workspace)
    client.force_login(first.user)
    body = {"parts": [{"text": "hi"}], "targets": [{"account": account.pk}]}
    assert (
        "workspace" in client.post("/api/v1/posts/", body, content_type="application/json").json()
    )
    body["workspace"] = first.workspace.pk
    answer = client.post("/api/v1/posts/", body, content_type="application/json")
    assert answer.status_code == 201
    assert Post.objects.get().author == first.user


def test_the_list_runs_as_many_queries_for_a_page_of_2_as_of_12(workspace):
    """A page's posts come with their parts, targets, tags, jobs and schedule in a fixed
    number of queries: one more read per post (an N+1) fails this."""
    accounts = SandboxAccountFactory.create_batch(2, workspace=workspace)
    tags = [Tag.objects.create(workspace=workspace, name=name) for name in ("a", "b")]
    for number in range(12):
        post = PostFactory(workspace=workspace, accounts=accounts, texts=["First.", "Second."])
        post.tags.set(tags)
        schedule_once_at(post, NOW.replace(hour=number))
        for account in accounts:
            PublishJobFactory(post=post, account=account, status=JobStatus.PUBLISHED)
    Post.objects.update(status=Post.Status.PUBLISHED)
    client = key_client(workspace, "read")
    query = f"/api/v1/posts/?status=published&tag={tags[0].pk}&account={accounts[0].pk}"

    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(f"{query}&page_size={page_size}")
        assert len(answer.json()["results"]) == page_size
        return len(captured)

    queries(2)  # the key's first use writes its last_used_at
    assert queries(2) == queries(12)


def test_a_listed_page_leaves_its_rows_to_reference_counting(workspace):
    """What a page read with its posts (parts, targets, jobs, schedules, tags) is freed
    with the request, not left in cycles for the garbage collector (config.api_common
    rows_release): in a web process those are a full collection's pause every dozen
    requests."""
    accounts = SandboxAccountFactory.create_batch(2, workspace=workspace)
    tag = Tag.objects.create(workspace=workspace, name="a")
    for number in range(3):
        post = PostFactory(workspace=workspace, accounts=accounts, texts=["First.", "Second."])
        post.tags.set([tag])
        schedule_once_at(post, NOW.replace(hour=number))
        PublishJobFactory(post=post, account=accounts[0], status=JobStatus.PUBLISHED)
    client = key_client(workspace, "read")
    assert len(client.get("/api/v1/posts/").json()["results"]) == 3
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        answer = client.get("/api/v1/posts/")
        assert len(answer.json()["results"]) == 3
        del answer
        gc.collect()
        kinds = (PostPart, Target, PublishJob, Schedule, Tag)
        left = [row for row in gc.garbage if isinstance(row, kinds)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


@time_machine.travel(NOW, tick=False)
def test_the_cursor_pages_through_posts_made_in_the_same_instant(workspace):
    made = {PostFactory(workspace=workspace).pk for _ in range(5)}
    client = key_client(workspace, "read")
    seen = []
    url = "/api/v1/posts/?page_size=2"
    while url:
        page = client.get(url).json()
        seen += [item["id"] for item in page["results"]]
        url = page["next"]
    assert seen == sorted(made, reverse=True)
