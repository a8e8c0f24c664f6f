"""Queue slots and posting limits through the API: the accounts' plans for posting,
made, changed and removed by the services the admin's rules live in, per workspace."""

import pytest

from accounts.models import AuditEvent
from scheduling.models import PostingLimit, QueueSlot
from tests.api.conftest import key_client
from tests.factories import SandboxAccountFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_slots_are_made_listed_moved_and_removed_per_account():
    account = SandboxAccountFactory(workspace=WorkspaceFactory(default_timezone="Asia/Tokyo"))
    other = SandboxAccountFactory(workspace=account.workspace)
    client = key_client(account.workspace, "write")
    made = client.post(
        "/api/v1/queue-slots/",
        {"account": account.pk, "weekday": 1, "local_time": "09:30"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    slot = made.json()
    assert slot["weekday_name"] == "Tuesday" and slot["timezone"] == "Asia/Tokyo"
    client.post("/api/v1/queue-slots/", {"account": other.pk, "weekday": 4, "local_time": "18:00"})
    listed = client.get(f"/api/v1/queue-slots/?account={account.pk}").json()
    assert [row["id"] for row in listed["results"]] == [slot["id"]]
    url = f"/api/v1/queue-slots/{slot['id']}/"
    moved = client.patch(url, {"local_time": "10:00"}, format="json")
    assert moved.status_code == 200 and moved.json()["local_time"] == "10:00:00"
    assert client.get(f"/api/v1/accounts/{account.pk}/slots/").json()[0]["local_time"] == "10:00:00"
    assert client.delete(url).status_code == 204
    assert not QueueSlot.objects.filter(pk=slot["id"]).exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="queue_slot.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["queue_slot.created", "queue_slot.created", "queue_slot.changed", "queue_slot.deleted"]


def test_a_slot_the_account_has_is_refused_on_its_time():
    account = SandboxAccountFactory()
    client = key_client(account.workspace, "write")
    body = {"account": account.pk, "weekday": 0, "local_time": "09:00"}
    assert client.post("/api/v1/queue-slots/", body, format="json").status_code == 201
    again = client.post("/api/v1/queue-slots/", body, format="json")
    assert again.status_code == 400
    assert "already" in again.json()["local_time"][0]
    bad_day = client.post("/api/v1/queue-slots/", {**body, "weekday": 7}, format="json")
    assert bad_day.status_code == 400 and "weekday" in bad_day.json()


def test_slots_of_another_workspace_are_not_found_nor_pointed_at():
    account = SandboxAccountFactory()
    slot = QueueSlot.objects.create(account=account, weekday=2, local_time="08:00")
    mine = SandboxAccountFactory()
    theirs = key_client(mine.workspace, "write")
    url = f"/api/v1/queue-slots/{slot.pk}/"
    assert theirs.get(url).status_code == 404
    assert theirs.patch(url, {"local_time": "09:00"}, format="json").status_code == 404
    assert theirs.delete(url).status_code == 404
    assert theirs.get("/api/v1/queue-slots/").json()["results"] == []
    pointed = theirs.post(
        "/api/v1/queue-slots/",
        {"account": account.pk, "weekday": 1, "local_time": "09:00"},
        format="json",
    )
    assert pointed.status_code == 400 and "account" in pointed.json()
    own = QueueSlot.objects.create(account=mine, weekday=2, local_time="08:00")
    moved_away = theirs.patch(
        f"/api/v1/queue-slots/{own.pk}/", {"account": account.pk}, format="json"
    )
    assert moved_away.status_code == 400 and "account" in moved_away.json()
    reader = key_client(account.workspace, "read")
    assert reader.get(url).status_code == 200
    assert reader.patch(url, {"local_time": "09:00"}, format="json").status_code == 403
    assert reader.delete(url).status_code == 403
    assert (
        reader.post(
            "/api/v1/queue-slots/",
            {"account": account.pk, "weekday": 1, "local_time": "09:00"},
            format="json",
        ).status_code
        == 403
    )


def test_posting_limits_are_set_changed_and_removed_with_the_admins_rules():
    account = SandboxAccountFactory()
    client = key_client(account.workspace, "write")
    made = client.post(
        "/api/v1/posting-limits/",
        {"account": account.pk, "min_spacing": "00:15:00", "max_per_day": 20},
        format="json",
        HTTP_IDEMPOTENCY_KEY="limit-1",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["max_per_hour"] is None
    second = client.post(
        "/api/v1/posting-limits/", {"account": account.pk, "max_per_day": 3}, format="json"
    )
    assert second.status_code == 400 and "account" in second.json()
    url = f"/api/v1/posting-limits/{made.json()['id']}/"
    zero = client.patch(url, {"max_per_hour": 0}, format="json")
    assert zero.status_code == 400 and "max_per_hour" in zero.json()
    negative = client.patch(url, {"min_spacing": "-00:05:00"}, format="json")
    assert negative.status_code == 400 and "min_spacing" in negative.json()
    changed = client.patch(url, {"max_per_hour": 4}, format="json")
    assert changed.status_code == 200, changed.json()
    limit = PostingLimit.objects.get(account=account)
    assert (limit.max_per_hour, limit.max_per_day) == (4, 20)
    elsewhere = SandboxAccountFactory(workspace=account.workspace)
    moved = client.patch(url, {"account": elsewhere.pk}, format="json")
    assert moved.status_code == 400 and "account" in moved.json()
    listed = client.get(f"/api/v1/posting-limits/?account={account.pk}").json()["results"]
    assert [row["id"] for row in listed] == [limit.pk]
    assert client.delete(url).status_code == 204
    assert not PostingLimit.objects.filter(account=account).exists()


def test_posting_limits_of_another_workspace_are_not_found_nor_pointed_at():
    account = SandboxAccountFactory()
    limit = PostingLimit.objects.create(account=account, max_per_day=5)
    theirs = key_client(WorkspaceFactory(), "write")
    url = f"/api/v1/posting-limits/{limit.pk}/"
    assert theirs.get(url).status_code == 404
    assert theirs.put(url, {"account": account.pk}, format="json").status_code == 404
    assert theirs.delete(url).status_code == 404
    pointed = theirs.post("/api/v1/posting-limits/", {"account": account.pk}, format="json")
    assert pointed.status_code == 400 and "account" in pointed.json()
    reader = key_client(account.workspace, "read")
    assert reader.patch(url, {"max_per_day": 6}, format="json").status_code == 403
    assert reader.delete(url).status_code == 403
