"""Facebook Pages' numbers are collected on the same plan as X's, over real
HTTP against the fake Graph API, with the clock moved."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.services import social_account_connect
from analytics.services import metrics_collect_due
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.networks import adapter_for
from publishing.stores import DatabaseStore, account_snapshot
from tests.factories import PostFactory, PublishJobFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def page(meta, clock):
    scene = meta.control.create_page_scene(page_name="Kairos Bakery")
    return scene, social_account_connect(
        network="facebook",
        workspace=WorkspaceFactory(),
        external_id=scene.page_id,
        handle="Kairos Bakery",
        credentials={"access_token": scene.page_token, "page_id": scene.page_id},
    )


def test_a_page_posts_numbers_are_snapshotted_at_the_plans_moments(meta, page, clock):
    _, account = page
    post = PostFactory(workspace=account.workspace, texts=["Counted"])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    meta.control.set_counts(job.external_id, likes=5, comments=2, shares=1, views=80)

    clock.move_to(NOW + timedelta(minutes=59))
    assert metrics_collect_due(now=timezone.now()) == 0
    clock.move_to(NOW + timedelta(hours=1))
    assert metrics_collect_due(now=timezone.now()) == 1

    [snapshot] = job.metrics.all()
    assert (snapshot.likes, snapshot.replies, snapshot.reposts, snapshot.impressions) == (
        5,
        2,
        1,
        80,
    )
    assert snapshot.due_at == NOW + timedelta(hours=1)


def test_a_deleted_page_post_stops_being_collected(meta, page, clock):
    _, account = page
    post = PostFactory(workspace=account.workspace, texts=["Gone soon"])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    adapter_for("facebook").delete(
        account=account_snapshot(account),
        external_id=job.external_id,
        store=DatabaseStore(network="facebook"),
    )

    clock.move_to(NOW + timedelta(hours=1))
    metrics_collect_due(now=timezone.now())

    job.refresh_from_db()
    assert job.metrics.count() == 0 and job.metrics_due_at is None
