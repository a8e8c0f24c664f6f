"""Campaigns made, changed and deleted, and tags renamed, through the API: the
model's and the services' rules, named by field, within one workspace."""

from datetime import date

import pytest

from accounts.models import AuditEvent
from posts.models import Campaign, Post, Tag
from tests.api.conftest import key_client
from tests.factories import PostFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

AUTUMN = {"name": "Autumn", "starts_on": "2026-10-20", "ends_on": "2026-10-27"}


def test_a_campaign_is_made_changed_and_deleted_and_its_posts_stay():
    workspace = WorkspaceFactory()
    client = key_client(workspace, "write")
    made = client.post("/api/v1/campaigns/", AUTUMN, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert made.status_code == 201, made.json()
    campaign = made.json()
    assert campaign["workspace"] == workspace.pk and campaign["timezone"] == ""
    replayed = client.post("/api/v1/campaigns/", AUTUMN, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert replayed.json() == campaign
    assert Campaign.objects.filter(workspace=workspace).count() == 1
    url = f"/api/v1/campaigns/{campaign['id']}/"
    changed = client.patch(url, {"timezone": "Asia/Tokyo", "ends_on": "2026-10-30"}, format="json")
    assert changed.status_code == 200, changed.json()
    assert changed.json()["ends_on"] == "2026-10-30"
    event = AuditEvent.objects.get(action="campaign.changed")
    assert event.data["changes"]["timezone"] == ["", "Asia/Tokyo"]
    running = client.get("/api/v1/campaigns/", {"active_on": "2026-10-29"}).json()["results"]
    assert [row["id"] for row in running] == [campaign["id"]]
    assert client.get("/api/v1/campaigns/", {"active_on": "2026-10-31"}).json()["results"] == []
    post = PostFactory(workspace=workspace, campaign=Campaign.objects.get())
    assert client.delete(url).status_code == 204
    assert Post.objects.get(pk=post.pk).campaign is None


def test_a_campaign_that_ends_before_it_starts_or_in_no_zone_is_refused_by_field():
    workspace = WorkspaceFactory()
    client = key_client(workspace, "write")
    backwards = client.post(
        "/api/v1/campaigns/", {**AUTUMN, "ends_on": "2026-10-19"}, format="json"
    )
    assert backwards.status_code == 400
    assert list(backwards.json()) == ["ends_on"]
    zone = client.post("/api/v1/campaigns/", {**AUTUMN, "timezone": "Mars/Olympus"}, format="json")
    assert zone.status_code == 400 and "timezone" in zone.json()
    missing = client.post("/api/v1/campaigns/", {"name": "No days"}, format="json")
    assert missing.status_code == 400 and {"starts_on", "ends_on"} <= missing.json().keys()
    campaign = Campaign.objects.create(
        workspace=workspace, name="Kept", starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 2)
    )
    refused = client.patch(
        f"/api/v1/campaigns/{campaign.pk}/", {"starts_on": "2026-02-01"}, format="json"
    )
    assert refused.status_code == 400 and "ends_on" in refused.json()
    assert Campaign.objects.get(pk=campaign.pk).starts_on == date(2026, 1, 1)


def test_campaigns_of_another_workspace_are_not_found_and_a_read_key_cannot_write():
    workspace = WorkspaceFactory()
    campaign = Campaign.objects.create(
        workspace=workspace, name="Theirs", starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 2)
    )
    other = WorkspaceFactory()
    theirs = key_client(other, "write")
    url = f"/api/v1/campaigns/{campaign.pk}/"
    assert theirs.get(url).status_code == 404
    assert theirs.patch(url, {"name": "Mine"}, format="json").status_code == 404
    assert theirs.delete(url).status_code == 404
    elsewhere = theirs.post("/api/v1/campaigns/", {**AUTUMN, "workspace": workspace.pk})
    assert elsewhere.status_code == 400 and "workspace" in elsewhere.json()
    mine = theirs.post("/api/v1/campaigns/", AUTUMN, format="json").json()
    moved = theirs.patch(
        f"/api/v1/campaigns/{mine['id']}/", {"workspace": workspace.pk}, format="json"
    )
    assert moved.status_code == 400 and "workspace" in moved.json()
    reader = key_client(workspace, "read")
    assert reader.post("/api/v1/campaigns/", AUTUMN, format="json").status_code == 403
    assert reader.patch(url, {"name": "Renamed"}, format="json").status_code == 403
    assert reader.delete(url).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).name == "Theirs"


def test_a_tag_is_renamed_within_its_workspace_by_the_same_name_rule():
    workspace = WorkspaceFactory()
    client = key_client(workspace, "write")
    launch = client.post("/api/v1/tags/", {"name": "launch"}, format="json").json()
    client.post("/api/v1/tags/", {"name": "sale"}, format="json")
    url = f"/api/v1/tags/{launch['id']}/"
    taken = client.patch(url, {"name": "Sale"}, format="json")
    assert taken.status_code == 400 and "name" in taken.json()
    renamed = client.put(url, {"name": " Launch week "}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Launch week"
    assert Tag.objects.get(pk=launch["id"]).name == "Launch week"
    assert client.patch(url, {"name": "launch WEEK"}, format="json").status_code == 200
    found = client.get("/api/v1/tags/", {"name__icontains": "week"}).json()["results"]
    assert [row["id"] for row in found] == [launch["id"]]
    theirs = key_client(WorkspaceFactory(), "write")
    assert theirs.patch(url, {"name": "mine"}, format="json").status_code == 404
    moved = client.patch(url, {"workspace": WorkspaceFactory().pk}, format="json")
    assert moved.status_code == 400 and "workspace" in moved.json()
    assert key_client(workspace, "read").patch(url, {"name": "x"}, format="json").status_code == 403
