"""The dashboard: each count matches the rows its link lists, scoped to the viewer, in a
fixed number of queries."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, SocialAccount
from posts.models import Post
from publishing.dashboard import dashboard_for
from publishing.models import JobStatus as S
from publishing.models import RateLimitWindow
from publishing.plans import schedule_once, schedule_set
from scheduling.models import Schedule
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
A = Post.Approval


def fill(workspace, *, scale: int = 1) -> None:
    """Rows of every kind the dashboard counts, `scale` of each."""
    account = SandboxAccountFactory(workspace=workspace)
    for n in range(scale):
        for status in (S.NEEDS_REVIEW, S.FAILED, S.MISSED, S.PUBLISHED):
            PublishJobFactory(
                post=PostFactory(workspace=workspace),
                account=account,
                status=status,
                due_at=NOW - timedelta(hours=1 + n),
                published_at=NOW - timedelta(minutes=n) if status == S.PUBLISHED else None,
                external_url=f"https://example.com/{n}" if status == S.PUBLISHED else "",
            )
        # A failure of last month is history, not counted.
        PublishJobFactory(
            post=PostFactory(workspace=workspace),
            account=account,
            status=S.FAILED,
            due_at=NOW - timedelta(days=30),
        )
        PostFactory(workspace=workspace, approval=A.IN_REVIEW)
        PublishJobFactory(
            post=PostFactory(workspace=workspace, approval=A.IN_REVIEW),
            account=account,
            status=S.PENDING,
            due_at=NOW - timedelta(minutes=10),
        )
        SandboxAccountFactory(workspace=workspace, status=SocialAccount.Status.NEEDS_REAUTH)
        SandboxAccountFactory(workspace=workspace, status=SocialAccount.Status.PAUSED)
        limited = SandboxAccountFactory(workspace=workspace)
        RateLimitWindow.objects.create(
            network="sandbox",
            key=f"account:{limited.pk}",
            endpoint="post",
            window="15m",
            limit=10,
            remaining=0,
            resets_at=NOW + timedelta(minutes=5),
            updated_at=NOW,
        )
        upcoming = PostFactory(workspace=workspace, accounts=[account])
        with time_machine.travel(NOW, tick=False):
            schedule_once(
                post=upcoming,
                local_date=NOW.date(),
                local_time=(NOW + timedelta(hours=2, minutes=n)).time(),
                timezone_name="UTC",
                actor=None,
            )


@pytest.fixture
def viewer(client):
    workspace = WorkspaceFactory(posts_need_approval=True)
    membership = MembershipFactory(workspace=workspace, role=Membership.Role.VIEWER)
    client.force_login(membership.user)
    return membership


@time_machine.travel(NOW, tick=False)
def test_every_count_is_what_its_link_lists(client, viewer):
    fill(viewer.workspace, scale=2)
    # Another workspace's rows count for nobody here.
    fill(WorkspaceFactory(posts_need_approval=True, publishing_paused_at=NOW))
    dashboard = dashboard_for(user=viewer.user, now=NOW)
    counts = {item.label: item.count for item in dashboard.attention}
    assert counts == {
        "Jobs needing review": 2,
        "Failed in the last 7 days": 2,
        "Missed in the last 7 days": 2,
        "Posts waiting for approval": 4,
        "Posts overdue for approval": 2,
        "Accounts needing reconnection": 2,
        "Accounts rate-limited now": 2,
        "Accounts paused": 2,
        "Workspaces with publishing paused": 0,
    }
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="kairos-dashboard"' in html
    assert "Everything in Kairos" in html
    for item in dashboard.attention:
        url = reverse(item.changelist)
        listed = client.get(url, item.query)
        assert listed.status_code == 200, item.label
        assert listed.context["cl"].result_count == item.count, item.label


@time_machine.travel(NOW, tick=False)
def test_a_paused_workspace_is_counted_and_listed(client, viewer):
    viewer.workspace.publishing_paused_at = NOW
    viewer.workspace.save()
    viewer.role = Membership.Role.OWNER
    viewer.save()
    item = next(
        item
        for item in dashboard_for(user=viewer.user, now=NOW).attention
        if item.label == "Workspaces with publishing paused"
    )
    assert item.count == 1
    listed = client.get(reverse(item.changelist), item.query)
    assert list(listed.context["cl"].result_list) == [viewer.workspace]


@time_machine.travel(NOW, tick=False)
def test_the_next_24_hours_and_the_last_published(viewer):
    fill(viewer.workspace, scale=3)
    dashboard = dashboard_for(user=viewer.user, now=NOW)
    assert [row.at for row in dashboard.upcoming] == [
        NOW + timedelta(hours=2, minutes=n) for n in range(3)
    ]
    assert [job.external_url for job in dashboard.published] == [
        f"https://example.com/{n}" for n in range(3)
    ]


@time_machine.travel(NOW, tick=False)
def test_a_recurring_post_shows_each_occurrence_of_the_next_24_hours(viewer):
    first, second = (
        SandboxAccountFactory(workspace=viewer.workspace, handle=handle) for handle in ("b", "a")
    )
    post = PostFactory(workspace=viewer.workspace, accounts=[first, second])
    schedule_set(
        post=post,
        kind=Schedule.Kind.INTERVAL,
        local_date=NOW.date(),
        local_time=(NOW + timedelta(hours=1)).time(),
        timezone_name="UTC",
        every=8,
        unit="hours",
        actor=None,
    )
    upcoming = dashboard_for(user=viewer.user, now=NOW).upcoming
    assert [(row.at, row.account.handle) for row in upcoming] == [
        (NOW + timedelta(hours=hours), handle) for hours in (1, 9, 17) for handle in ("a", "b")
    ]


@time_machine.travel(NOW, tick=False)
def test_the_query_count_does_not_grow_with_the_data(viewer, django_assert_max_num_queries):
    fill(viewer.workspace, scale=1)
    with CaptureQueriesContext(connection) as small:
        dashboard_for(user=viewer.user, now=NOW)
    fill(viewer.workspace, scale=5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        dashboard = dashboard_for(user=viewer.user, now=NOW)
        [str(row.post) for row in dashboard.upcoming]
        [str(job.post) for job in dashboard.published]
    # Two of them read the visible workspaces' and accounts' ids, which the others use.
    assert len(small.captured_queries) <= 15
