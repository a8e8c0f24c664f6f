"""LinkedIn posts' numbers are collected on the same plan as X's, over real HTTP against
the fake LinkedIn, with the clock moved (to a month whose LinkedIn-Version is active)."""

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

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def connected(scene, author, handle):
    return social_account_connect(
        network="linkedin",
        workspace=WorkspaceFactory(),
        external_id=author,
        handle=handle,
        credentials={"access_token": scene.access_token, "author": author},
        expires_at=NOW + timedelta(days=60),
    )


@pytest.fixture
def organization(linkedin, clock):
    scene = linkedin.control.create_scene(organization="Kairos Bakery")
    return connected(scene, scene.organization_urn, "Kairos Bakery")


@pytest.fixture
def member(linkedin, clock):
    scene = linkedin.control.create_scene(name="Ada Lovelace")
    return connected(scene, scene.member_urn, "Ada Lovelace")


def published(account, text):
    post = PostFactory(workspace=account.workspace, texts=[text])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("author", ["organization", "member"])
def test_a_posts_numbers_are_snapshotted_at_the_plans_moments(linkedin, clock, request, author):
    # An organization's from its share statistics, a member's from their post analytics.
    job = published(request.getfixturevalue(author), "Counted")
    linkedin.control.set_counts(job.external_id, likes=5, comments=2, shares=1, impressions=80)

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


def test_a_deleted_post_stops_being_collected(linkedin, organization, clock):
    job = published(organization, "Gone soon")
    adapter_for("linkedin").delete(
        account=account_snapshot(organization),
        external_id=job.external_id,
        store=DatabaseStore(network="linkedin"),
    )

    clock.move_to(NOW + timedelta(hours=1))
    metrics_collect_due(now=timezone.now())

    job.refresh_from_db()
    assert job.metrics.count() == 0 and job.metrics_due_at is None
