"""The analytics API: each stats view as JSON, scoped to the caller's workspaces, in
the OpenAPI schema."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model

from accounts.models import SocialAccount
from analytics.models import MetricsSnapshot
from posts.models import Campaign, Tag
from publishing.models import JobStatus
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def job(member):
    account = SandboxAccountFactory(workspace=member.workspace, network=SocialAccount.Network.X)
    campaign = Campaign.objects.create(
        workspace=member.workspace, name="Spring", starts_on=NOW.date(), ends_on=NOW.date()
    )
    post = PostFactory(workspace=member.workspace, campaign=campaign, author=member.user)
    post.tags.add(Tag.objects.create(workspace=member.workspace, name="launch"))
    at = NOW - timedelta(days=2)
    made = PublishJobFactory(
        post=post, account=account, occurrence_at=at, status=JobStatus.PUBLISHED, published_at=at
    )
    MetricsSnapshot.objects.create(
        job=made, due_at=at + timedelta(hours=24), collected_at=at, likes=9, impressions=300
    )
    return made


def table(answer, key):
    return next(t for t in answer["tables"] if t["key"] == key)


def figure(answer, name):
    return next(row for row in table(answer, "stats")["rows"] if row[0] == name)


def test_an_accounts_report(client, job):
    answer = client.get(
        f"/api/v1/analytics/accounts/{job.account_id}/", {"from": "2026-04-13", "to": "2026-04-19"}
    ).json()

    assert answer["timezone"] == "Europe/Paris"
    assert answer["period"] == {"first": "2026-04-13", "last": "2026-04-19"}
    assert answer["simulated"] is False
    assert figure(answer, "likes") == ["likes", 9, None, None]
    assert figure(answer, "engagement_rate") == ["engagement_rate", 0.03, None, None]
    assert {t["key"] for t in answer["tables"]} >= {"weekly", "followers", "heatmap", "best_times"}


def test_a_posts_report(client, job):
    answer = client.get(f"/api/v1/analytics/jobs/{job.pk}/").json()
    assert table(answer, "totals")["rows"][0] == ["24 h", 300, 9, None, None, None, 9]


def test_campaign_tag_workspace_and_author(client, job, member):
    tag = job.post.tags.get()
    campaign = job.post.campaign
    for url in (
        f"/api/v1/analytics/campaigns/{campaign.pk}/",
        f"/api/v1/analytics/tags/{tag.pk}/",
        f"/api/v1/analytics/workspaces/{member.workspace_id}/",
        f"/api/v1/analytics/workspaces/{member.workspace_id}/?author={member.user_id}",
    ):
        assert figure(client.get(url).json(), "published")[1] == 1, url
    other = get_user_model().objects.create(username="outsider")
    assert (
        client.get(
            f"/api/v1/analytics/workspaces/{member.workspace_id}/?author={other.pk}"
        ).status_code
        == 404
    )


def test_another_workspaces_objects_are_not_found(client, member):
    theirs = PublishJobFactory(status=JobStatus.PUBLISHED, published_at=NOW)
    assert client.get(f"/api/v1/analytics/accounts/{theirs.account_id}/").status_code == 404
    assert client.get(f"/api/v1/analytics/jobs/{theirs.pk}/").status_code == 404
    workspace_id = theirs.post.workspace_id
    assert client.get(f"/api/v1/analytics/workspaces/{workspace_id}/").status_code == 404


def test_a_bad_period_is_a_400_that_says_what_to_fix(client, job):
    answer = client.get(f"/api/v1/analytics/accounts/{job.account_id}/", {"from": "yesterday"})
    assert answer.status_code == 400
    assert "YYYY-MM-DD" in answer.json()["period"][0]


def test_the_endpoints_are_in_the_openapi_schema(client, member):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in (
        "/api/v1/analytics/accounts/{account_id}/",
        "/api/v1/analytics/jobs/{job_id}/",
        "/api/v1/analytics/campaigns/{campaign_id}/",
        "/api/v1/analytics/tags/{tag_id}/",
        "/api/v1/analytics/workspaces/{workspace_id}/",
    ):
        assert path in schema["paths"], path
