"""A post scheduled a few seconds ahead goes out once, on time, through real processes."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.timezones import utc_to_wall, zone_get
from publishing.beat import beat_entries_ensure
from publishing.models import JobStatus, PublishJob, SandboxPost
from publishing.plans import schedule_once
from tests.factories import PostFactory, SandboxAccountFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ON_TIME_SECONDS = 2.0


def schedule_seconds_ahead(post, *, seconds: int, zone_name: str):
    due = (timezone.now() + timedelta(seconds=seconds)).replace(microsecond=0)
    local = utc_to_wall(due, zone_get(zone_name))
    schedule_once(
        post=post,
        local_date=local.date(),
        local_time=local.time().replace(tzinfo=None),
        timezone_name=zone_name,
        actor=None,
    )
    return due


def wait_until_finished(post, *, timeout: float) -> PublishJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = PublishJob.objects.filter(post=post).first()
        if job is not None and job.status not in (
            JobStatus.PENDING,
            JobStatus.QUEUED,
            JobStatus.RUNNING,
        ):
            return job
        time.sleep(0.05)
    raise AssertionError(f"post {post.pk} was not published within {timeout}s")


def test_a_scheduled_post_is_published_exactly_once_and_on_time(celery_processes):
    beat_entries_ensure()
    account = SandboxAccountFactory(handle="integration")
    # A first post proves the pipeline is warm (worker, beat, broker) before timing.
    warm_up = PostFactory(workspace=account.workspace, accounts=[account], texts=["warm-up"])
    schedule_seconds_ahead(warm_up, seconds=2, zone_name="UTC")
    assert wait_until_finished(warm_up, timeout=30).status == JobStatus.PUBLISHED

    post = PostFactory(workspace=account.workspace, accounts=[account], texts=["On time!"])
    due = schedule_seconds_ahead(post, seconds=5, zone_name="Asia/Kolkata")
    job = wait_until_finished(post, timeout=30)

    assert job.status == JobStatus.PUBLISHED, job.error_message
    published = SandboxPost.objects.filter(account=account, text="On time!")
    assert published.count() == 1
    assert job.attempts.count() == 1
    lateness = (published.get().created_at - due).total_seconds()
    print(f"\nlateness: {lateness:.3f} s (due {due:%H:%M:%S} UTC, scheduled in Asia/Kolkata)")
    assert 0 <= lateness < ON_TIME_SECONDS
