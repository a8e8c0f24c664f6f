"""Schedules set, changed and cancelled through the API, by the composer's rules
(`schedule_set`): once, interval, cron and RRULE, each in its zone; nothing half-stored."""

from datetime import UTC, datetime

import pytest
import time_machine

from accounts.models import AuditEvent
from posts.models import Post
from publishing.models import JobStatus, PublishJob
from scheduling.models import PostingLimit, Schedule
from tests.api.conftest import key_client
from tests.factories import PostFactory, SandboxAccountFactory, WorkspaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 10, 13, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def a_post(workspace=None):
    workspace = workspace or WorkspaceFactory()
    account = SandboxAccountFactory(workspace=workspace)
    return PostFactory(workspace=workspace, accounts=[account])


@pytest.mark.parametrize(
    ("rule", "first_utc"),
    [
        ({"kind": "once", "timezone": "America/New_York"}, "2026-10-20T13:30:00Z"),
        ({"kind": "interval", "every": 2, "unit": "days"}, "2026-10-20T07:30:00Z"),
        (
            {"kind": "cron", "cron": "30 11 * * TUE", "timezone": "Asia/Tokyo"},
            "2026-10-20T02:30:00Z",
        ),
        (
            {"kind": "rrule", "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=3", "timezone": "Europe/London"},
            "2026-10-20T08:30:00Z",
        ),
    ],
    ids=["once", "interval", "cron", "rrule"],
)
def test_a_schedule_of_each_kind_is_set_in_its_zone(rule, first_utc):
    post = a_post()
    client = key_client(post.workspace, "write")
    body = {"post": post.pk, "local_date": "2026-10-20", "local_time": "09:30", **rule}
    answer = client.post("/api/v1/schedules/", body, format="json")
    assert answer.status_code == 201, answer.json()
    made = answer.json()
    assert made["post"] == post.pk and made["kind"] == rule["kind"]
    assert made["timezone"] == rule.get("timezone", "Europe/Paris")
    assert made["next_occurrence_at"] == first_utc
    assert Post.objects.get(pk=post.pk).status == Post.Status.SCHEDULED


def test_a_refused_rule_names_its_field_and_stores_nothing():
    post = a_post()
    client = key_client(post.workspace, "write")
    body = {"post": post.pk, "kind": "cron", "cron": "61 9 * * *", "local_date": "2026-10-20"}
    body["local_time"] = "09:30"
    refused = client.post("/api/v1/schedules/", body, format="json")
    assert refused.status_code == 400 and "cron" in refused.json()
    zone = client.post(
        "/api/v1/schedules/",
        {**body, "kind": "once", "timezone": "Mars/Olympus"},
        format="json",
    )
    assert zone.status_code == 400 and "timezone" in zone.json()
    assert not Schedule.objects.filter(post=post).exists()
    assert Post.objects.get(pk=post.pk).status == Post.Status.DRAFT


def test_a_schedule_that_breaks_a_posting_limit_is_not_kept():
    post = a_post()
    account = post.targets.get().account
    PostingLimit.objects.create(account=account, max_per_day=1)
    other = PostFactory(workspace=post.workspace, accounts=[account])
    client = key_client(post.workspace, "write")
    body = {"kind": "once", "local_date": "2026-10-20", "local_time": "09:30"}
    assert (
        client.post("/api/v1/schedules/", {**body, "post": other.pk}, format="json").status_code
        == 201
    )
    refused = client.post("/api/v1/schedules/", {**body, "post": post.pk}, format="json")
    assert refused.status_code == 400, refused.json()
    assert not Schedule.objects.filter(post=post).exists()


def test_a_post_with_a_schedule_is_changed_not_scheduled_twice():
    post = a_post()
    client = key_client(post.workspace, "write")
    body = {"post": post.pk, "kind": "once", "local_date": "2026-10-20", "local_time": "09:30"}
    made = client.post("/api/v1/schedules/", body, format="json").json()
    again = client.post("/api/v1/schedules/", body, format="json")
    assert again.status_code == 400 and str(made["id"]) in again.json()["post"][0]
    url = f"/api/v1/schedules/{made['id']}/"
    moved = client.patch(url, {"local_time": "18:00", "timezone": "UTC"}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["next_occurrence_at"] == "2026-10-20T18:00:00Z"
    assert moved.json()["kind"] == "once"
    replaced = client.put(
        url,
        {"kind": "cron", "cron": "0 8 * * *", "local_date": "2026-10-21", "local_time": "08:00"},
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["next_occurrence_at"] == "2026-10-21T06:00:00Z"
    assert client.put(url, {"kind": "cron"}, format="json").json().keys() >= {
        "local_date",
        "local_time",
    }


def test_the_same_create_sent_twice_with_one_key_schedules_once():
    post = a_post()
    client = key_client(post.workspace, "write")
    body = {"post": post.pk, "kind": "once", "local_date": "2026-10-20", "local_time": "09:30"}
    first = client.post("/api/v1/schedules/", body, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    second = client.post("/api/v1/schedules/", body, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert AuditEvent.objects.filter(action="post.scheduled").count() == 1


def test_deleting_a_schedule_cancels_the_post_and_takes_the_publish_scope():
    post = a_post()
    writer = key_client(post.workspace, "write")
    body = {"post": post.pk, "kind": "once", "local_date": "2026-10-20", "local_time": "09:30"}
    url = (
        f"/api/v1/schedules/{writer.post('/api/v1/schedules/', body, format='json').json()['id']}/"
    )
    PublishJob.objects.create(
        post=post,
        account=post.targets.get().account,
        occurrence_at=NOW,
        due_at=NOW,
        next_attempt_at=NOW,
    )
    assert writer.delete(url).status_code == 403
    assert key_client(post.workspace, "publish").delete(url).status_code == 204
    assert Schedule.objects.get(post=post).status == Schedule.Status.CANCELLED
    assert PublishJob.objects.get(post=post).status == JobStatus.CANCELLED


def test_another_workspace_cannot_see_change_or_schedule_this_ones_posts():
    post = a_post()
    mine = key_client(post.workspace, "write")
    body = {"post": post.pk, "kind": "once", "local_date": "2026-10-20", "local_time": "09:30"}
    url = f"/api/v1/schedules/{mine.post('/api/v1/schedules/', body, format='json').json()['id']}/"
    other = a_post()
    theirs = key_client(other.workspace, "write", "publish")
    assert theirs.get(url).status_code == 404
    assert theirs.patch(url, {"local_time": "10:00"}, format="json").status_code == 404
    assert theirs.delete(url).status_code == 404
    pointed = theirs.post("/api/v1/schedules/", body, format="json")
    assert pointed.status_code == 400 and "post" in pointed.json()
    reader = key_client(post.workspace, "read")
    assert reader.patch(url, {"local_time": "10:00"}, format="json").status_code == 403
    # A read key is refused any write before its body is read, whatever it names.
    assert (
        reader.post("/api/v1/schedules/", {**body, "post": other.pk}, format="json").status_code
        == 403
    )
    fresh = PostFactory(workspace=post.workspace)
    assert (
        reader.post("/api/v1/schedules/", {**body, "post": fresh.pk}, format="json").status_code
        == 403
    )


def test_schedules_are_listed_a_page_at_a_time_and_filtered():
    workspace = WorkspaceFactory()
    client = key_client(workspace, "write")
    made = []
    for kind, extra in (("once", {}), ("cron", {"cron": "0 9 * * *"})):
        body = {"post": a_post(workspace).pk, "kind": kind, **extra}
        body |= {"local_date": "2026-10-20", "local_time": "09:30"}
        made.append(client.post("/api/v1/schedules/", body, format="json").json()["id"])
    page = client.get("/api/v1/schedules/", {"page_size": 1}).json()
    rest = client.get(page["next"]).json()
    assert [row["id"] for row in page["results"] + rest["results"]] == made
    crons = client.get("/api/v1/schedules/", {"kind": "cron"}).json()["results"]
    assert [row["id"] for row in crons] == [made[1]]
