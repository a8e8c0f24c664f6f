"""The admin's analytics pages: charts with their tables, CSV with zone and period,
workspace scoping, and a suggested time made a queue slot in one click."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Membership
from analytics.models import MetricsSnapshot
from posts.models import Campaign
from publishing.models import JobStatus
from scheduling.models import QueueSlot
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def published(account, at, likes, **post):
    job = PublishJobFactory(
        post=PostFactory(workspace=account.workspace, **post),
        account=account,
        occurrence_at=at,
        status=JobStatus.PUBLISHED,
        published_at=at,
    )
    MetricsSnapshot.objects.create(
        job=job, due_at=at + timedelta(hours=1), collected_at=at, likes=likes, impressions=100
    )
    return job


@pytest.fixture
def account(member):
    account = SandboxAccountFactory(workspace=member.workspace, handle="kairos_news")
    # Five Mondays at 09:30 Paris time (summer time from 29 March): a confident cell.
    for month, day, hour in ((3, 16, 8), (3, 23, 8), (3, 30, 7), (4, 6, 7), (4, 13, 7)):
        published(account, datetime(2026, month, day, hour, 30, tzinfo=UTC), 7)
    return account


def test_the_overview_links_our_accounts_campaigns_and_latest_posts(client, account):
    theirs = SandboxAccountFactory(handle="not_ours")
    html = client.get(reverse("admin:analytics_overview")).content.decode()
    assert reverse("admin:analytics_account", args=[account.pk]) in html
    latest = account.jobs.order_by("-published_at").first()
    assert reverse("admin:analytics_post", args=[latest.pk]) in html
    assert "not_ours" not in html and theirs.pk


def test_an_accounts_page_has_each_chart_and_its_table(client, account):
    page = client.get(reverse("admin:analytics_account", args=[account.pk]))
    html = page.content.decode()

    assert page.status_code == 200
    for key in ("weekly", "followers", "heatmap"):
        assert f'id="chart-{key}"' in html
        assert f'id="chart-data-{key}"' in html
        assert f'id="table-{key}"' in html
    assert "analytics/vendor/chartjs/chart.umd.js" in html
    assert "Simulated numbers" in html
    assert "7.0 (5)" in html  # Monday 09:00: mean 7 over 5 posts
    assert "Make this a queue slot" in html


def test_heatmap_cells_below_the_confidence_rule_say_so_and_are_marked(client, account):
    # Two Tuesdays at 20:00 Paris time: 2 posts, under the rule's 5.
    for day in (7, 14):
        published(account, datetime(2026, 4, day, 18, tzinfo=UTC), 3)

    html = client.get(reverse("admin:analytics_account", args=[account.pk])).content.decode()

    assert '<td class="heat thin">3.0 (2)<br>too few posts</td>' in html
    assert '<td class="heat">7.0 (5)</td>' in html


def test_the_csv_names_its_zone_and_period(client, account):
    response = client.get(
        reverse("admin:analytics_account", args=[account.pk]),
        {"from": "2026-04-01", "to": "2026-04-19", "tz": "America/New_York", "format": "csv"},
    )
    body = response.content.decode()

    assert response["Content-Type"].startswith("text/csv")
    assert "2026-04-01-2026-04-19-America-New_York.csv" in response["Content-Disposition"]
    assert "# zone,America/New_York" in body
    assert "# period,2026-04-01,2026-04-19" in body
    # Two Mondays in the period (6 and 13 April): 2 posts, 14 likes.
    assert "published,2,3," in body


def test_a_bad_period_is_explained(client, account):
    page = client.get(reverse("admin:analytics_account", args=[account.pk]), {"tz": "Mars/Olympus"})
    assert page.status_code == 200
    assert "not a known time zone" in page.content.decode()


def test_another_workspaces_account_job_and_campaign_are_not_found(client, member):
    other = SandboxAccountFactory()
    job = published(other, NOW - timedelta(days=1), 3)
    campaign = Campaign.objects.create(
        workspace=other.workspace,
        name="Theirs",
        starts_on=NOW.date(),
        ends_on=NOW.date(),
    )
    assert client.get(reverse("admin:analytics_account", args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:analytics_post", args=[job.pk])).status_code == 404
    assert client.get(reverse("admin:analytics_campaign", args=[campaign.pk])).status_code == 404


def test_a_posts_page_and_a_campaigns_page(client, account):
    campaign = Campaign.objects.create(
        workspace=account.workspace, name="Spring", starts_on=NOW.date(), ends_on=NOW.date()
    )
    job = published(account, NOW - timedelta(days=2), 11, campaign=campaign)

    post_page = client.get(reverse("admin:analytics_post", args=[job.pk])).content.decode()
    assert 'id="chart-series"' in post_page and 'id="table-against_median"' in post_page

    campaign_page = client.get(
        reverse("admin:analytics_campaign", args=[campaign.pk]), {"simulated": "1"}
    ).content.decode()
    assert 'id="chart-posts"' in campaign_page
    assert f"#{job.post_id}" in campaign_page


def test_a_suggestion_becomes_a_queue_slot_in_one_click(client, account):
    response = client.post(
        reverse("admin:analytics_account_slot", args=[account.pk]),
        {"weekday": "Monday", "hour": "9"},
    )
    assert response.status_code == 302
    assert list(QueueSlot.objects.filter(account=account).values_list("weekday", "local_time")) == [
        (0, time(9))
    ]


def test_a_viewer_may_look_but_not_add_a_slot(client, member, account):
    Membership.objects.filter(pk=member.pk).update(role=Membership.Role.VIEWER)
    html = client.get(reverse("admin:analytics_account", args=[account.pk])).content.decode()
    assert "Make this a queue slot" not in html
    response = client.post(
        reverse("admin:analytics_account_slot", args=[account.pk]),
        {"weekday": "Monday", "hour": "9"},
    )
    assert response.status_code == 403
    assert not QueueSlot.objects.exists()
