"""The roll-up of each job's latest snapshot (`LatestMetrics`), kept by the database's
triggers (analytics/migrations/0003_latest_metrics.py) whoever writes the snapshots.

These run on SQLite's row triggers; tests/integration/test_latest_metrics_postgresql.py
runs them again on PostgreSQL's statement triggers.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import SocialAccount
from analytics.best_times import best_times
from analytics.models import LatestMetrics, MetricsSnapshot
from analytics.retention import retention_purge
from analytics.stats import Period, account_stats
from publishing.models import JobStatus, PublishJob
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

PARIS = "Europe/Paris"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def account():
    return SandboxAccountFactory(network=SocialAccount.Network.X, workspace__default_timezone=PARIS)


def published(account, at: datetime) -> PublishJob:
    return PublishJobFactory(
        post=PostFactory(workspace=account.workspace),
        account=account,
        occurrence_at=at,
        status=JobStatus.PUBLISHED,
        published_at=at,
    )


def snapshot(job, *, after: timedelta, likes: int, **numbers) -> MetricsSnapshot:
    due_at = job.published_at + after
    return MetricsSnapshot.objects.create(
        job=job, due_at=due_at, collected_at=due_at, likes=likes, **numbers
    )


def latest(job) -> tuple[datetime, int] | None:
    return LatestMetrics.objects.filter(job=job).values_list("due_at", "likes").first()


def test_a_later_snapshot_moves_the_row_forward_and_an_earlier_one_does_not(account):
    job = published(account, utc(2026, 3, 2, 9))
    assert latest(job) is None

    snapshot(job, after=timedelta(hours=1), likes=3)
    assert latest(job) == (utc(2026, 3, 2, 10), 3)

    snapshot(job, after=timedelta(hours=24), likes=9, impressions=400, link_clicks=2)
    assert latest(job) == (utc(2026, 3, 3, 9), 9)
    row = LatestMetrics.objects.get(job=job)
    assert (row.impressions, row.link_clicks, row.replies) == (400, 2, None)

    # A reading that arrives late for an earlier moment leaves the later one standing.
    snapshot(job, after=timedelta(hours=6), likes=5)
    assert latest(job) == (utc(2026, 3, 3, 9), 9)


def test_one_bulk_insert_of_many_jobs_keeps_each_jobs_latest(account):
    first, second = published(account, utc(2026, 3, 2, 9)), published(account, utc(2026, 3, 4, 9))
    MetricsSnapshot.objects.bulk_create(
        [
            MetricsSnapshot(
                job=job, due_at=job.published_at + after, collected_at=job.published_at, likes=likes
            )
            for job, after, likes in [
                (first, timedelta(hours=6), 2),
                (first, timedelta(hours=1), 1),
                (second, timedelta(hours=1), 7),
                (first, timedelta(hours=24), 4),
            ]
        ]
    )

    assert latest(first) == (utc(2026, 3, 3, 9), 4)
    assert latest(second) == (utc(2026, 3, 4, 10), 7)


def test_deleting_snapshots_falls_back_to_the_previous_or_leaves_no_row(account):
    job = published(account, utc(2026, 3, 2, 9))
    hour = snapshot(job, after=timedelta(hours=1), likes=1)
    day = snapshot(job, after=timedelta(hours=24), likes=4)

    hour.delete()
    assert latest(job) == (utc(2026, 3, 3, 9), 4)
    hour = snapshot(job, after=timedelta(hours=1), likes=1)
    day.delete()
    assert latest(job) == (utc(2026, 3, 2, 10), 1)
    hour.delete()
    assert latest(job) is None


def test_correcting_the_latest_snapshot_corrects_the_row_and_a_job_takes_its_row_along(account):
    job = published(account, utc(2026, 3, 2, 9))
    snapshot(job, after=timedelta(hours=1), likes=1)

    MetricsSnapshot.objects.filter(job=job).update(likes=11)
    assert latest(job) == (utc(2026, 3, 2, 10), 11)

    job.delete()
    assert not LatestMetrics.objects.exists()


def test_compaction_keeps_the_latest_and_age_retention_removes_it_with_its_snapshots(
    account, settings
):
    now = utc(2026, 6, 1, 12)
    settings.KAIROS_RETENTION_METRICS_HOURLY_DAYS = 30
    settings.KAIROS_RETENTION_METRICS_DAYS = 60
    compacted, aged = published(account, utc(2026, 4, 6, 8)), published(account, utc(2026, 3, 2, 8))
    for after, likes in [
        (timedelta(hours=1), 1),
        (timedelta(hours=6), 2),
        (timedelta(hours=24), 3),
    ]:
        snapshot(compacted, after=after, likes=likes)
        snapshot(aged, after=after, likes=likes * 10)

    for _ in retention_purge(now=now, batch_size=1):
        pass

    # The 1 h reading went with compaction (the 6 h one is that day's last).
    assert list(compacted.metrics.values_list("likes", flat=True)) == [2, 3]
    assert latest(compacted) == (utc(2026, 4, 7, 8), 3)
    assert not aged.metrics.exists()
    assert latest(aged) is None


def test_stats_and_best_times_read_the_same_over_the_paris_dst_week(account):
    # Monday 23 to Sunday 29 March 2026; Paris goes from UTC+1 to UTC+2 on the Sunday.
    week = Period(first=date(2026, 3, 23), last=date(2026, 3, 29), timezone_name=PARIS)
    before = published(account, utc(2026, 3, 28, 8, 30))  # Saturday 09:30 CET
    after = published(account, utc(2026, 3, 29, 7, 30))  # Sunday 09:30 CEST
    snapshot(before, after=timedelta(hours=24), likes=8, impressions=100, replies=2)
    snapshot(before, after=timedelta(hours=1), likes=1, impressions=10)  # late for its moment
    snapshot(after, after=timedelta(hours=1), likes=3, impressions=50, reposts=1)
    snapshot(after, after=timedelta(hours=6), likes=6, impressions=200, reposts=2)

    stats = account_stats(account=account, period=week)
    times = best_times(account=account, now=utc(2026, 3, 30, 12))

    # Latest of each: 8 + 2 engagements over 100 impressions, 6 + 2 over 200.
    assert stats.published == 2
    assert (stats.totals.numbers.likes, stats.totals.numbers.impressions) == (14, 300)
    assert stats.totals.engagements == 18
    assert stats.totals.engagement_rate == pytest.approx(18 / 300)
    assert times.cell(5, 9).engagements == 10
    assert times.cell(6, 9).engagements == 8
