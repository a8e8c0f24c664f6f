"""The demo's past: published sandbox posts with simulated metrics and followers, so
its analytics pages have charts at once, and the collector carries on from there."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import FollowerCount
from analytics.best_times import best_times
from analytics.demo import HISTORY_WEEKS, demo_history_seed
from analytics.models import MetricsSnapshot
from analytics.reports import account_report, period_from_query
from analytics.services import metrics_collect_due
from publishing.models import JobStatus, PublishJob
from publishing.networks.sandbox.metrics import sandbox_metrics
from tests.factories import MembershipFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)


@pytest.fixture
def account():
    member = MembershipFactory(workspace__default_timezone="Europe/Paris")
    return SandboxAccountFactory(workspace=member.workspace, handle="kairos_news")


@time_machine.travel(NOW, tick=False)
def test_the_demo_history_fills_the_account_page(account):
    made = demo_history_seed(workspace=account.workspace, now=NOW)

    assert made == HISTORY_WEEKS * 7 * 2
    jobs = PublishJob.objects.filter(account=account, status=JobStatus.PUBLISHED)
    assert jobs.count() == made
    assert FollowerCount.objects.filter(account=account).count() == HISTORY_WEEKS * 7
    oldest = jobs.order_by("published_at").first()
    snapshots = MetricsSnapshot.objects.filter(job=oldest).order_by("due_at")
    # The oldest post is past the whole plan: every moment has its snapshot.
    assert snapshots.count() == 27
    week_after = snapshots.get(due_at=oldest.published_at + timedelta(days=7))
    expected = sandbox_metrics(post_id=oldest.external_id, age=timedelta(days=7))
    assert (week_after.likes, week_after.raw) == (expected.likes, {"simulated": True})

    report = account_report(
        account=account,
        period=period_from_query({}, default_zone="Europe/Paris", now=NOW),
        now=NOW,
    )
    tables = {table.key: table for table in report.tables}
    assert report.simulated is True
    # Every week of the period had posts, but for the one starting today (none yet).
    assert [row[1] > 0 for row in tables["weekly"].rows] == [True] * 4 + [False]
    assert len(tables["followers"].rows) == 27  # a reading each day up to yesterday
    assert best_times(account=account, now=NOW).thin is False


@time_machine.travel(NOW, tick=False)
def test_the_collector_carries_on_with_the_recent_posts(account):
    demo_history_seed(workspace=account.workspace, now=NOW)
    later = NOW + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        assert metrics_collect_due(now=later) > 0


def test_the_same_demo_every_time(account):
    first = demo_history_seed(workspace=account.workspace, now=NOW)
    times = list(PublishJob.objects.order_by("published_at").values_list("published_at", flat=True))
    PublishJob.objects.all().delete()
    FollowerCount.objects.all().delete()
    assert demo_history_seed(workspace=account.workspace, now=NOW) == first
    assert (
        list(PublishJob.objects.order_by("published_at").values_list("published_at", flat=True))
        == times
    )


@time_machine.travel(NOW, tick=False)
def test_each_post_of_the_demo_history_has_a_link_that_opens(account, client, settings):
    settings.KAIROS_PUBLIC_URL = "http://testserver"
    demo_history_seed(workspace=account.workspace, now=NOW)

    jobs = PublishJob.objects.filter(account=account, status=JobStatus.PUBLISHED)
    assert all(job.external_url for job in jobs)
    page = client.get(jobs.first().external_url.removeprefix("http://testserver"))
    assert page.status_code == 200
