from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.events import EVENT_TYPES, event_type_of
from accounts.models import AuditEvent, WebhookDelivery
from accounts.services import audit_record
from publishing.events import events_fan_out
from publishing.execution import jobs_execute
from publishing.models import JobStatus
from publishing.webhooks import webhook_endpoint_create
from tests.factories import PostFactory, PublishJobFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_post_outcomes_are_read_from_the_roll_up_and_other_actions_are_as_they_are():
    assert event_type_of(action="post.status_changed", to_status="published") == "post.published"
    assert event_type_of(action="post.status_changed", to_status="failed") == "post.failed"
    assert event_type_of(action="post.status_changed", to_status="publishing") is None
    assert event_type_of(action="job.missed", to_status="missed") == "job.missed"
    assert event_type_of(action="post.created", to_status="") is None
    assert event_type_of(action="webhook.disabled", to_status="") == "webhook.disabled"
    for name in (
        "post.scheduled",
        "post.published",
        "post.partially_published",
        "post.failed",
        "post.cancelled",
        "job.needs_review",
        "job.missed",
        "post.metrics_updated",
        "account.rate_limited",
        "account.needs_reauth",
        "post.review_requested",
        "post.approved",
        "post.changes_requested",
    ):
        assert name in EVENT_TYPES


def test_the_doorbell_rings_once_per_transaction_after_commit(
    broker_messages, django_capture_on_commit_callbacks
):
    post = PostFactory()
    broker_messages("events")  # What earlier tests of this process left there.
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for _ in range(3):
            audit_record(
                workspace=post.workspace, actor=None, action="post.scheduled", subject=post
            )
        audit_record(workspace=post.workspace, actor=None, action="post.created", subject=post)
    assert len(callbacks) == 1
    assert broker_messages("events") == [("publishing.tasks.events_fan_out", [])]


def test_an_event_without_an_outside_reader_rings_nothing(
    broker_messages, django_capture_on_commit_callbacks
):
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        audit_record(workspace=post.workspace, actor=None, action="post.created", subject=post)
    assert callbacks == []


def published(workspace) -> None:
    job = PublishJobFactory(post__workspace=workspace, status=JobStatus.QUEUED)
    jobs_execute(job_ids=[job.pk])


def test_fan_out_makes_one_delivery_per_wanting_endpoint_of_the_events_workspace(
    broker_messages, django_capture_on_commit_callbacks
):
    workspace, other = WorkspaceFactory(), WorkspaceFactory()
    every = webhook_endpoint_create(
        workspace=workspace, url="https://a.example.com/", events=[], actor=None
    ).endpoint
    webhook_endpoint_create(
        workspace=workspace, url="https://b.example.com/", events=["post.failed"], actor=None
    )
    webhook_endpoint_create(workspace=other, url="https://c.example.com/", events=[], actor=None)
    published(workspace)
    broker_messages("webhooks")  # What earlier tests of this process left there.

    with django_capture_on_commit_callbacks(execute=True):
        assert events_fan_out() >= 1
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.endpoint, delivery.event_type) == (every, "post.published")
    assert ("publishing.tasks.webhook_deliver", [delivery.pk]) in broker_messages("webhooks")

    # Taken once: a second fan-out (a repeated doorbell, the sweep) finds nothing.
    assert events_fan_out() == 0
    assert WebhookDelivery.objects.count() == 1
    assert not AuditEvent.objects.filter(action="post.status_changed", fanned_out_at=None).exists()


def test_the_sweep_picks_up_an_event_whose_doorbell_was_lost_but_not_day_old_history():
    workspace = WorkspaceFactory()
    webhook_endpoint_create(
        workspace=workspace, url="https://a.example.com/", events=[], actor=None
    )
    post = PostFactory(workspace=workspace)
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        audit_record(workspace=workspace, actor=None, action="post.scheduled", subject=post)
    audit_record(workspace=workspace, actor=None, action="post.scheduled", subject=post)

    events_fan_out()

    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event.created_at > timezone.now() - timedelta(minutes=1)
