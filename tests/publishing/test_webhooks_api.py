import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Membership, WebhookDelivery, WebhookEndpoint
from accounts.services import audit_record
from publishing.events import events_fan_out
from tests.factories import MembershipFactory, PostFactory

pytestmark = pytest.mark.django_db
R = Membership.Role


def client_of(membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


@pytest.fixture
def owner():
    return MembershipFactory(role=R.OWNER)


def register(client, workspace, idempotency_key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    return client.post(
        "/api/v1/webhooks/",
        {"workspace": workspace.pk, "url": "https://hooks.example.com/k", **extra},
        format="json",
        **headers,
    )


def test_an_owner_registers_an_endpoint_and_sees_its_secret_once(owner):
    client = client_of(owner)
    answer = register(client, owner.workspace, events=["post.published", "post.failed"])
    assert answer.status_code == 201, answer.json()
    assert answer.json()["secret"].startswith("whsec_")
    assert answer.json()["events"] == ["post.failed", "post.published"]

    listed = client.get("/api/v1/webhooks/").json()["results"]
    assert [row["secret"] for row in listed] == [None]
    assert answer.json()["secret"] not in str(
        client.get(f"/api/v1/webhooks/{listed[0]['id']}/").json()
    )
    assert AuditEvent.objects.filter(action="webhook.created", actor=owner.user).exists()


def test_an_unknown_event_type_names_the_field(owner):
    answer = register(client_of(owner), owner.workspace, events=["post.publishd"])
    assert answer.status_code == 400
    assert "events" in answer.json()


def test_an_editor_is_refused_and_another_workspace_finds_nothing(owner):
    register(client_of(owner), owner.workspace)
    endpoint = WebhookEndpoint.objects.get()
    # An editor owns no workspace: webhooks are closed to them, and they are told so.
    editor = client_of(MembershipFactory(workspace=owner.workspace, role=R.EDITOR))
    for answer in (
        editor.get("/api/v1/webhooks/"),
        editor.get(f"/api/v1/webhooks/{endpoint.pk}/"),
        editor.delete(f"/api/v1/webhooks/{endpoint.pk}/"),
        register(editor, owner.workspace),
    ):
        assert answer.status_code == 403 and "owners" in answer.json()["detail"]
    # The owner of another workspace does not see this one's.
    stranger = client_of(MembershipFactory(role=R.OWNER))
    assert stranger.get("/api/v1/webhooks/").json()["results"] == []
    assert stranger.get(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404
    assert stranger.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404
    # Nor can they point an endpoint at a workspace they are not a member of.
    answer = register(stranger, owner.workspace)
    assert answer.status_code == 400 and "workspace" in answer.json()
    # An owner elsewhere who only views this workspace sees it but may not register.
    viewer_here = MembershipFactory(role=R.OWNER).user
    viewing = MembershipFactory(workspace=owner.workspace, user=viewer_here, role=R.VIEWER)
    answer = register(client_of(viewing), owner.workspace)
    assert answer.status_code == 403 and "owners" not in answer.json()["detail"]
    assert WebhookEndpoint.objects.count() == 1


def test_the_delivery_log_is_read_and_a_delivery_sent_again(owner):
    register(client_of(owner), owner.workspace)
    post = PostFactory(workspace=owner.workspace)
    audit_record(workspace=owner.workspace, actor=None, action="post.scheduled", subject=post)
    events_fan_out()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_try_at=None)
    client = client_of(owner)

    [row] = client.get("/api/v1/webhook-deliveries/").json()["results"]
    assert (row["event_type"], row["status"]) == ("post.scheduled", "failed")
    assert row["event_id"] == f"evt_{delivery.event_id}"
    answer = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/")
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    other = client_of(MembershipFactory(role=R.OWNER))
    assert other.post(f"/api/v1/webhook-deliveries/{delivery.pk}/send-again/").status_code == 404


def test_deleting_an_endpoint_is_audited(owner):
    client = client_of(owner)
    endpoint_id = register(client, owner.workspace).json()["id"]
    assert client.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.deleted").exists()


def test_registering_again_with_the_same_idempotency_key_makes_one_endpoint(owner):
    client = client_of(owner)
    first = register(client, owner.workspace, idempotency_key="hook-1")
    again = register(client, owner.workspace, idempotency_key="hook-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert WebhookEndpoint.objects.count() == 1
