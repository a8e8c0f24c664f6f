"""Accounts and schedules through the API: read, health, and the actions staff have,
scoped by workspace, role and key scopes."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from accounts.models import SocialAccount
from publishing.plans import schedule_set
from scheduling.models import Schedule
from tests.api.conftest import key_client
from tests.factories import PostFactory, SandboxAccountFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 13, 12, 0, tzinfo=UTC)


def test_accounts_show_health_and_only_an_admin_key_pauses_them():
    account = SandboxAccountFactory(workspace=WorkspaceFactory())
    theirs = SandboxAccountFactory(workspace=WorkspaceFactory())
    reader = key_client(account.workspace, "read", "write", "publish")
    listed = reader.get("/api/v1/accounts/").json()["results"]
    assert [item["id"] for item in listed] == [account.pk]
    assert listed[0]["health"] == ["active"]
    assert reader.post(f"/api/v1/accounts/{account.pk}/pause/").status_code == 403
    admin = key_client(account.workspace, "admin")
    assert admin.get(f"/api/v1/accounts/{theirs.pk}/").status_code == 404
    assert admin.post(f"/api/v1/accounts/{theirs.pk}/pause/").status_code == 404
    paused = admin.post(f"/api/v1/accounts/{account.pk}/pause/")
    assert paused.json()["status"] == "paused"
    assert paused.json()["health"] == ["paused"]
    assert admin.post(f"/api/v1/accounts/{account.pk}/pause/").status_code == 409
    assert admin.post(f"/api/v1/accounts/{account.pk}/resume/").json()["status"] == "active"
    assert SocialAccount.objects.get(pk=theirs.pk).status == "active"


def test_a_key_cannot_start_a_browser_sign_in():
    client = key_client(WorkspaceFactory(), "admin")
    answer = client.post("/api/v1/x/connect/", {"workspace": 1}, format="json")
    assert answer.status_code == 403
    assert "person" in answer.json()["detail"]


def weekly(workspace):
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account])
    return schedule_set(
        post=post,
        kind=Schedule.Kind.CRON,
        cron="30 9 * * MON",
        local_date=date(2026, 10, 12),
        local_time=time(9, 30),
        timezone_name="Europe/London",
        actor=None,
    )


@time_machine.travel(NOW, tick=False)
def test_schedule_actions_pause_resume_skip_move_and_end():
    schedule = weekly(WorkspaceFactory())
    theirs = weekly(WorkspaceFactory())
    client = key_client(schedule.post.workspace, "write")
    url = f"/api/v1/schedules/{schedule.pk}/"
    assert client.post(f"/api/v1/schedules/{theirs.pk}/pause/").status_code == 404
    assert key_client(schedule.post.workspace, "read").post(f"{url}pause/").status_code == 403
    assert client.post(f"{url}pause/").json()["status"] == "paused"
    assert client.post(f"{url}pause/").status_code == 409
    assert client.post(f"{url}resume/").json()["status"] == "active"
    skipped = client.post(
        f"{url}skip-occurrence/", {"occurrence_at": "2026-10-19T08:30:00Z"}, format="json"
    )
    assert skipped.status_code == 200, skipped.json()
    assert skipped.json()["next_occurrence_at"] == "2026-10-26T09:30:00Z"
    refused = client.post(
        f"{url}skip-occurrence/", {"occurrence_at": "2026-10-20T08:30:00Z"}, format="json"
    )
    assert refused.status_code == 400
    assert "occurrence_at" in refused.json()
    moved = client.post(
        f"{url}move-occurrence/",
        {
            "occurrence_at": "2026-10-26T09:30:00Z",
            "local_date": "2026-10-27",
            "local_time": "10:00",
        },
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["next_occurrence_at"] == "2026-10-27T10:00:00Z"
    ended = client.post(f"{url}end/")
    assert ended.json()["next_occurrence_at"] is None


def test_tags_are_made_used_and_deleted_within_the_workspace():
    workspace = WorkspaceFactory()
    other = WorkspaceFactory()
    client = key_client(workspace, "write")
    made = client.post("/api/v1/tags/", {"name": "launch"}, format="json")
    assert made.status_code == 201
    assert made.json()["workspace"] == workspace.pk
    again = client.post("/api/v1/tags/", {"name": "Launch"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    assert (
        client.post(
            "/api/v1/tags/", {"name": "x", "workspace": other.pk}, format="json"
        ).status_code
        == 400
    )
    theirs = (
        key_client(other, "write").post("/api/v1/tags/", {"name": "theirs"}, format="json").json()
    )
    assert [t["name"] for t in client.get("/api/v1/tags/").json()["results"]] == ["launch"]
    assert client.delete(f"/api/v1/tags/{theirs['id']}/").status_code == 404
    assert (
        key_client(workspace, "read").delete(f"/api/v1/tags/{made.json()['id']}/").status_code
        == 403
    )
    assert client.delete(f"/api/v1/tags/{made.json()['id']}/").status_code == 204


@time_machine.travel(NOW, tick=False)
def test_a_campaign_is_distributed_over_its_days():
    from posts.models import Campaign

    workspace = WorkspaceFactory(default_timezone="Europe/Paris")
    account = SandboxAccountFactory(workspace=workspace)
    campaign = Campaign.objects.create(
        workspace=workspace, name="Autumn", starts_on=date(2026, 10, 20), ends_on=date(2026, 10, 21)
    )
    for _ in range(2):
        PostFactory(workspace=workspace, accounts=[account], campaign=campaign)
    assert (
        key_client(WorkspaceFactory(), "write")
        .post(f"/api/v1/campaigns/{campaign.pk}/distribute/")
        .status_code
        == 404
    )
    answer = key_client(workspace, "write").post(
        f"/api/v1/campaigns/{campaign.pk}/distribute/", {"time_of_day": "09:00"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert sorted(s["next_occurrence_at"] for s in answer.json()) == [
        "2026-10-20T07:00:00Z",
        "2026-10-21T07:00:00Z",
    ]


def test_audit_and_attempts_are_read_within_the_workspace():
    from django.utils import timezone

    from publishing.models import PublishAttempt
    from tests.factories import PublishJobFactory

    workspace = WorkspaceFactory()
    job = PublishJobFactory(post=PostFactory(workspace=workspace))
    PublishAttempt.objects.create(job=job, number=1, started_at=timezone.now())
    theirs = PublishJobFactory(post=PostFactory(workspace=WorkspaceFactory()))
    PublishAttempt.objects.create(job=theirs, number=1, started_at=timezone.now())
    client = key_client(workspace, "read")
    attempts = client.get("/api/v1/attempts/").json()["results"]
    assert [a["job"] for a in attempts] == [job.pk]
    client.post("/api/v1/tags/", {"name": "nope"}, format="json")
    events = client.get("/api/v1/audit/").json()["results"]
    assert events and {e["workspace"] for e in events} == {workspace.pk}
