from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from accounts.services import audit_record
from analytics.models import MetricsSnapshot
from analytics.retention import retention_counts, retention_purge
from publishing.models import JobStatus, PublishAttempt, PublishJob, SandboxPost
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

S = JobStatus
NOW = timezone.now()
OLD = NOW - timedelta(days=400)


def _job(*, post, account, status, at, metrics_due_at=None):
    """A job with one attempt and one sandbox post, as it was `at`."""
    with time_machine.travel(at, tick=False):
        job = PublishJobFactory(
            post=post, account=account, status=status, occurrence_at=at, attempt_count=1
        )
        PublishAttempt.objects.create(job=job, number=1, started_at=at)
        SandboxPost.objects.create(
            account=account, idempotency_key=f"kairos-job-{job.pk}:0", text="hi", created_at=at
        )
    if metrics_due_at:
        PublishJob.objects.filter(pk=job.pk).update(metrics_due_at=metrics_due_at)
    return job


@pytest.fixture
def history():
    account = SandboxAccountFactory()
    recurring = PostFactory(workspace=account.workspace, accounts=[account])
    old_occurrence = _job(post=recurring, account=account, status=S.PUBLISHED, at=OLD)
    MetricsSnapshot.objects.create(job=old_occurrence, due_at=OLD, collected_at=OLD)
    latest_old = _job(post=recurring, account=account, status=S.PUBLISHED, at=OLD + timedelta(1))
    once = PostFactory(workspace=account.workspace, accounts=[account])
    in_review = _job(post=once, account=account, status=S.NEEDS_REVIEW, at=OLD)
    recent = PostFactory(workspace=account.workspace, accounts=[account])
    fresh = _job(post=recent, account=account, status=S.PUBLISHED, at=NOW - timedelta(days=1))
    MetricsSnapshot.objects.create(job=fresh, due_at=NOW, collected_at=NOW)
    with time_machine.travel(OLD, tick=False):
        audit_record(workspace=account.workspace, actor=None, action="old", subject=recurring)
    audit_record(workspace=account.workspace, actor=None, action="new", subject=recurring)
    return {
        "old_occurrence": old_occurrence,
        "latest_old": latest_old,
        "in_review": in_review,
        "fresh": fresh,
    }


def _purge():
    return {p.kind: p.deleted for p in retention_purge(now=NOW, batch_size=1)}


def test_old_rows_go_and_younger_ones_stay(history):
    _purge()

    assert not PublishJob.objects.filter(pk=history["old_occurrence"].pk).exists()
    assert set(PublishJob.objects.values_list("pk", flat=True)) == {
        history["latest_old"].pk,
        history["in_review"].pk,
        history["fresh"].pk,
    }
    assert list(MetricsSnapshot.objects.values_list("job_id", flat=True)) == [history["fresh"].pk]
    assert list(
        AuditEvent.objects.filter(action__in=["old", "new"]).values_list("action", flat=True)
    ) == ["new"]
    assert not AuditEvent.objects.filter(created_at__lt=NOW - timedelta(days=365)).exists()


def test_a_job_in_review_keeps_its_attempts_and_its_sandbox_post(history):
    _purge()

    in_review = history["in_review"]
    assert in_review.attempts.count() == 1
    assert SandboxPost.objects.filter(idempotency_key=f"kairos-job-{in_review.pk}:0").exists()


def test_the_latest_occurrence_of_a_post_is_kept_but_loses_its_old_attempts(history):
    _purge()

    latest = history["latest_old"]
    assert PublishJob.objects.filter(pk=latest.pk).exists()
    assert latest.attempts.count() == 0
    assert history["fresh"].attempts.count() == 1


def test_a_job_still_collecting_metrics_is_kept(history):
    PublishJob.objects.filter(pk=history["old_occurrence"].pk).update(metrics_due_at=NOW)

    _purge()

    assert PublishJob.objects.filter(pk=history["old_occurrence"].pk).exists()


def test_old_sandbox_posts_go_once_their_job_is_finished(history):
    _purge()

    keys = set(SandboxPost.objects.values_list("idempotency_key", flat=True))
    assert keys == {
        f"kairos-job-{history['in_review'].pk}:0",
        f"kairos-job-{history['fresh'].pk}:0",
    }


def test_counts_say_what_a_purge_deletes_and_a_second_purge_finds_nothing(history):
    counts = retention_counts(now=NOW)

    assert counts == {
        "attempts": 2,
        "jobs": 1,
        "audit events": AuditEvent.objects.filter(created_at__lt=NOW - timedelta(days=365)).count(),
        "sandbox posts": 2,
        "metric snapshots": 1,
        "webhook deliveries": 0,
        "hourly metric snapshots": 0,
        "idempotency answers": 0,
    }
    assert _purge() == counts
    assert set(retention_counts(now=NOW).values()) == {0}


def test_ages_come_from_settings(history, settings):
    settings.KAIROS_RETENTION_AUDIT_DAYS = 500

    _purge()

    assert AuditEvent.objects.filter(action="old").exists()


def test_finished_webhook_deliveries_go_and_those_still_tried_stay():
    account = SandboxAccountFactory()
    post = PostFactory(workspace=account.workspace)
    endpoint = WebhookEndpoint.objects.create(
        workspace=account.workspace, url="https://hooks.example.com/", secret="x"
    )
    made = {}
    for status in WebhookDelivery.Status:
        with time_machine.travel(NOW - timedelta(days=31), tick=False):
            event = audit_record(
                workspace=account.workspace, actor=None, action="post.scheduled", subject=post
            )
            made[status] = WebhookDelivery.objects.create(
                endpoint=endpoint, event=event, event_type="post.scheduled", status=status
            )

    assert retention_counts(now=NOW)["webhook deliveries"] == 2
    _purge()

    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["pending"]


def test_snapshots_past_30_days_keep_the_last_of_each_day():
    job = PublishJobFactory(status=S.PUBLISHED)
    published = (NOW - timedelta(days=40)).replace(hour=8, minute=0, second=0, microsecond=0)
    recent = NOW - timedelta(days=3)
    moments = [
        published + timedelta(hours=1),
        published + timedelta(hours=6),
        published + timedelta(hours=24),
        published + timedelta(days=7),
        recent,
        recent + timedelta(hours=1),
    ]
    for likes, due_at in enumerate(moments):
        MetricsSnapshot.objects.create(job=job, due_at=due_at, collected_at=due_at, likes=likes)

    assert retention_counts(now=NOW)["hourly metric snapshots"] == 1
    _purge()

    # The publishing day keeps its 6 h reading; younger than 30 days, both stay.
    assert list(job.metrics.order_by("due_at").values_list("likes", flat=True)) == [1, 2, 3, 4, 5]
