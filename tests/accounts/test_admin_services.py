"""The admin makes, changes and deletes tags, campaigns, queue slots and posting limits
through the services the API calls (accounts/admin.py: ServiceSavedAdmin): one rule,
one audit record, whichever face."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from posts.models import Campaign, Tag
from scheduling.models import PostingLimit, QueueSlot
from tests.factories import MembershipFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


def actions(prefix: str) -> list[str]:
    rows = AuditEvent.objects.filter(action__startswith=prefix).order_by("id")
    return list(rows.values_list("action", flat=True))


def test_a_tag_is_made_renamed_and_deleted_by_its_services(client, owner):
    add = reverse("admin:posts_tag_add")
    made = client.post(add, {"workspace": owner.workspace_id, "name": " launch "})
    assert made.status_code == 302
    tag = Tag.objects.get()
    assert tag.name == "launch"
    again = client.post(add, {"workspace": owner.workspace_id, "name": "LAUNCH"})
    assert again.status_code == 200 and "already" in str(again.context["adminform"].form.errors)
    client.post(reverse("admin:posts_tag_change", args=[tag.pk]), {"name": "Launch week"})
    client.post(reverse("admin:posts_tag_delete", args=[tag.pk]), {"post": "yes"})
    assert actions("tag.") == ["tag.created", "tag.changed", "tag.deleted"]


def test_a_campaign_ending_before_it_starts_is_refused_on_its_end(client, owner):
    add = reverse("admin:posts_campaign_add")
    body = {"workspace": owner.workspace_id, "name": "Autumn", "starts_on": "2026-10-20"}
    refused = client.post(add, {**body, "ends_on": "2026-10-19"})
    assert refused.status_code == 200
    assert "ends_on" in refused.context["adminform"].form.errors
    assert client.post(add, {**body, "ends_on": "2026-10-27"}).status_code == 302
    campaign = Campaign.objects.get()
    change = reverse("admin:posts_campaign_change", args=[campaign.pk])
    assert client.post(change, {**body, "ends_on": "2026-10-30"}).status_code == 302
    assert AuditEvent.objects.get(action="campaign.changed").data["changes"] == {
        "ends_on": ["2026-10-27", "2026-10-30"]
    }
    client.post(reverse("admin:posts_campaign_delete", args=[campaign.pk]), {"post": "yes"})
    assert actions("campaign.") == ["campaign.created", "campaign.changed", "campaign.deleted"]


def test_slots_and_limits_go_through_their_services(client, owner):
    account = SandboxAccountFactory(workspace=owner.workspace)
    add = reverse("admin:scheduling_queueslot_add")
    body = {"account": account.pk, "weekday": 1, "local_time": "09:30:00"}
    assert client.post(add, body).status_code == 302
    taken = client.post(add, body)
    assert "local_time" in taken.context["adminform"].form.errors
    slot = QueueSlot.objects.get()
    client.post(
        reverse("admin:scheduling_queueslot_change", args=[slot.pk]), {**body, "weekday": 2}
    )
    assert QueueSlot.objects.get().weekday == 2
    assert actions("queue_slot.") == ["queue_slot.created", "queue_slot.changed"]
    limits = reverse("admin:scheduling_postinglimit_add")
    zero = client.post(limits, {"account": account.pk, "max_per_day": "0"})
    assert "max_per_day" in zero.context["adminform"].form.errors
    assert client.post(limits, {"account": account.pk, "max_per_day": "5"}).status_code == 302
    limit = PostingLimit.objects.get()
    change = reverse("admin:scheduling_postinglimit_change", args=[limit.pk])
    assert client.post(change, {"max_per_day": "6"}).status_code == 302
    assert PostingLimit.objects.get().max_per_day == 6
    client.post(reverse("admin:scheduling_postinglimit_delete", args=[limit.pk]), {"post": "yes"})
    assert actions("postinglimit.") == [
        "postinglimit.created",
        "postinglimit.changed",
        "postinglimit.deleted",
    ]
