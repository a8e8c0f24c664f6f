import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import AuditEvent, Membership, Notification, WebhookDelivery, WebhookEndpoint
from publishing.events import events_fan_out
from publishing.execution import jobs_execute
from publishing.models import JobStatus
from publishing.webhooks import (
    WebhookError,
    webhook_deliver,
    webhook_deliveries_due,
    webhook_delivery_send_again,
    webhook_endpoint_create,
    webhook_endpoint_enable,
)
from tests.factories import MembershipFactory, PublishJobFactory, UserFactory, WorkspaceFactory
from tests.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.django_db
D = WebhookDelivery.Status


@pytest.fixture
def receiver():
    with webhook_receiver() as receiver:
        yield receiver


def published_job(workspace):
    job = PublishJobFactory(post__workspace=workspace, status=JobStatus.QUEUED)
    assert jobs_execute(job_ids=[job.pk]) == {job.pk: JobStatus.PUBLISHED}
    return job


def endpoint_for(workspace, url, events=("post.published",)):
    return webhook_endpoint_create(workspace=workspace, url=url, events=list(events), actor=None)


def the_delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.select_related("endpoint", "event").get()


def test_the_secret_is_shown_once_and_stored_encrypted():
    new = endpoint_for(WorkspaceFactory(), "https://hooks.example.com/kairos")
    stored = WebhookEndpoint.objects.get().secret
    assert new.secret.startswith("whsec_")
    assert new.secret not in stored
    assert new.secret[6:] not in stored


def test_an_unknown_event_type_is_refused_with_the_choices():
    with pytest.raises(WebhookError, match=r"post\.publishd.*choose from post\.scheduled"):
        endpoint_for(WorkspaceFactory(), "https://hooks.example.com/k", ["post.publishd"])


def test_a_delivery_is_signed_per_standard_webhooks_with_the_event_id(receiver):
    workspace = WorkspaceFactory()
    new = endpoint_for(workspace, receiver.url)
    job = published_job(workspace)
    events_fan_out()

    assert webhook_deliver(delivery_id=the_delivery().pk) == D.DELIVERED

    [request] = receiver.received
    payload = Webhook(new.secret).verify(request.body, request.headers)
    event = AuditEvent.objects.get(action="post.status_changed", to_status="published")
    assert request.headers["webhook-id"] == f"evt_{event.pk}"
    assert payload["type"] == "post.published"
    assert payload["id"] == f"evt_{event.pk}"
    assert payload["workspace"] == {"id": workspace.pk, "slug": workspace.slug}
    post = payload["data"]["post"]
    assert post["id"] == job.post_id and post["status"] == "published"
    [job_data] = post["jobs"]
    assert job_data["url"] == job.__class__.objects.get(pk=job.pk).external_url
    assert job_data["account"]["handle"] == job.account.handle
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint_for(workspace, receiver.url).secret).verify(request.body, request.headers)
    delivery = the_delivery()
    assert (delivery.response_code, delivery.attempt_count) == (204, 1)


def test_a_failing_receiver_is_tried_again_with_backoff_then_gets_it_once(receiver):
    workspace = WorkspaceFactory()
    new = endpoint_for(workspace, receiver.url)
    published_job(workspace)
    events_fan_out()
    receiver.answers = [500, 503]
    delivery_id = the_delivery().pk

    assert webhook_deliver(delivery_id=delivery_id) == D.PENDING
    first = the_delivery()
    assert first.response_code == 500 and "HTTP 500" in first.last_error
    assert first.next_try_at > timezone.now() + timedelta(seconds=29)
    assert webhook_deliver(delivery_id=delivery_id) == "not-due"
    assert webhook_deliveries_due(now=timezone.now()) == []

    with time_machine.travel(first.next_try_at + timedelta(seconds=1)):
        assert webhook_deliveries_due(now=timezone.now()) == [delivery_id]
        assert webhook_deliver(delivery_id=delivery_id) == D.PENDING
    second = the_delivery()
    assert second.next_try_at - first.next_try_at > timedelta(seconds=55)
    with time_machine.travel(second.next_try_at + timedelta(seconds=1)):
        assert webhook_deliver(delivery_id=delivery_id) == D.DELIVERED
        ids = {r.headers["webhook-id"] for r in receiver.received}
        for request in receiver.received:
            Webhook(new.secret).verify(request.body, request.headers)
    assert len(receiver.received) == 3 and len(ids) == 1
    assert the_delivery().attempt_count == 3


def test_retries_stop_after_a_day_and_repeated_failure_disables_the_endpoint(receiver):
    workspace = WorkspaceFactory()
    owner = MembershipFactory(workspace=workspace, role=Membership.Role.OWNER).user
    MembershipFactory(workspace=workspace, role=Membership.Role.EDITOR)
    endpoint_for(workspace, receiver.url)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for number in range(1, 4):
            published_job(workspace)
            events_fan_out()
            delivery = WebhookDelivery.objects.filter(status=D.PENDING).get()
            outcome = None
            while outcome != D.FAILED:
                receiver.answers = [500]
                outcome = webhook_deliver(delivery_id=delivery.pk)
                delivery.refresh_from_db()
                if outcome == D.PENDING:
                    assert delivery.next_try_at <= delivery.created_at + timedelta(days=1)
                    traveller.move_to(delivery.next_try_at + timedelta(seconds=1))
            assert delivery.attempt_count > 10
            assert timezone.now() - delivery.created_at > timedelta(hours=20)
            assert "Given up after" in delivery.last_error
            assert WebhookEndpoint.objects.get().failure_count == number
            traveller.move_to(timezone.now() + timedelta(minutes=1))
        endpoint = WebhookEndpoint.objects.get()
        assert not endpoint.active and endpoint.disabled_at is not None
        assert AuditEvent.objects.filter(action="webhook.disabled").count() == 1

        events_fan_out()
        [notice] = Notification.objects.filter(kind="webhook.disabled")
        assert notice.recipient == owner
        assert notice.link == f"/admin/accounts/webhookendpoint/{endpoint.pk}/change/"

        # Disabled: nothing is sent until an owner turns it back on.
        published_job(workspace)
        events_fan_out()
        assert not WebhookDelivery.objects.filter(status=D.PENDING).exists()
        assert webhook_endpoint_enable(endpoint=endpoint, actor=owner)
        assert WebhookEndpoint.objects.get().failure_count == 0


def test_send_again_puts_a_given_up_delivery_back(receiver):
    workspace = WorkspaceFactory()
    owner = UserFactory()
    endpoint_for(workspace, receiver.url)
    published_job(workspace)
    events_fan_out()
    delivery = the_delivery()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=D.FAILED, next_try_at=None)

    assert webhook_delivery_send_again(delivery=delivery, actor=owner)

    assert webhook_deliver(delivery_id=delivery.pk) == D.DELIVERED
    assert AuditEvent.objects.filter(action="webhook.sent_again", actor=owner).exists()
    assert json.loads(receiver.received[0].body)["type"] == "post.published"
