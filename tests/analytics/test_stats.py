"""Stats with hand-computed numbers, in Paris over the week its clocks go forward
(Sunday 29 March 2026, 02:00 CET → 03:00 CEST), and in New York for contrast."""

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import FollowerCount, SocialAccount
from analytics.models import MetricsSnapshot
from analytics.stats import (
    Numbers,
    Period,
    account_followers,
    account_stats,
    account_weekly,
    author_stats,
    campaign_posts,
    campaign_stats,
    percentile,
    post_against_account_median,
    post_series,
    stats_compare,
    tag_stats,
    workspace_stats,
)
from posts.models import Campaign, Tag
from publishing.models import JobStatus
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

PARIS = "Europe/Paris"
WEEK = Period(first=date(2026, 3, 23), last=date(2026, 3, 29), timezone_name=PARIS)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def account():
    return SandboxAccountFactory(network=SocialAccount.Network.X, workspace__default_timezone=PARIS)


def job(account, *, due, late=timedelta(0), status=JobStatus.PUBLISHED, snapshots=(), **post):
    published_at = due + late if status == JobStatus.PUBLISHED else None
    made = PublishJobFactory(
        post=PostFactory(workspace=account.workspace, **post),
        account=account,
        occurrence_at=due,
        status=status,
        published_at=published_at,
    )
    for after, numbers in snapshots:
        MetricsSnapshot.objects.create(
            job=made, due_at=published_at + after, collected_at=published_at + after, **numbers
        )
    return made


H1, H24, D7 = timedelta(hours=1), timedelta(hours=24), timedelta(days=7)


@pytest.fixture
def week(account):
    """Four posts out in the week (0 s, 30 s, 2 min and 10 min late), one failed, one
    missed, and posts just outside the week on either side."""
    jobs = [
        # 00:30 Monday in Paris, 23:30 Sunday in UTC: inside.
        job(
            account,
            due=utc(2026, 3, 22, 23, 30),
            snapshots=[
                (H1, {"likes": 1, "impressions": 100}),
                (H24, {"likes": 5, "replies": 1, "impressions": 400}),
            ],
        ),
        job(
            account,
            due=utc(2026, 3, 25, 12),
            late=timedelta(seconds=30),
            snapshots=[(H1, {"likes": 2, "reposts": 2, "impressions": 100})],
        ),
        job(account, due=utc(2026, 3, 27, 8), late=timedelta(minutes=2)),
        # 23:30 Sunday in Paris (CEST, after the change), 21:30 UTC: inside.
        job(
            account,
            due=utc(2026, 3, 29, 21, 20),
            late=timedelta(minutes=10),
            snapshots=[(H1, {"likes": 10, "link_clicks": 5, "impressions": 500})],
        ),
    ]
    job(account, due=utc(2026, 3, 26, 9), status=JobStatus.FAILED)
    job(account, due=utc(2026, 3, 28, 9), status=JobStatus.MISSED)
    # 00:30 Monday 30 March in Paris: the next week.
    job(account, due=utc(2026, 3, 29, 22, 30), snapshots=[(H1, {"likes": 99})])
    # 23:30 Sunday 22 March in Paris: the week before.
    job(
        account,
        due=utc(2026, 3, 22, 22, 30),
        snapshots=[(H1, {"likes": 8, "replies": 2, "impressions": 200})],
    )
    return jobs


def test_a_period_is_whole_local_days_and_the_dst_week_is_167_hours():
    assert WEEK.start == utc(2026, 3, 22, 23)
    assert WEEK.end == utc(2026, 3, 29, 22)
    assert WEEK.end - WEEK.start == timedelta(hours=167)
    assert WEEK.previous() == Period(
        first=date(2026, 3, 16), last=date(2026, 3, 22), timezone_name=PARIS
    )
    new_york = Period(
        first=date(2026, 3, 23), last=date(2026, 3, 29), timezone_name="America/New_York"
    )
    assert (new_york.start, new_york.end) == (utc(2026, 3, 23, 4), utc(2026, 3, 30, 4))


def test_percentile_is_nearest_rank():
    assert percentile([0, 30, 120, 600], 50) == 30
    assert percentile([0, 30, 120, 600], 95) == 600
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


def test_account_stats_over_the_dst_week(account, week):
    stats = account_stats(account=account, period=WEEK)

    assert (stats.published, stats.failed, stats.missed) == (4, 1, 1)
    assert stats.on_time_rate == 0.5  # 0 s and 30 s are within a minute
    assert stats.lateness_p50_seconds == 30
    assert stats.lateness_p95_seconds == 600
    totals = stats.totals
    assert totals.posts == 4
    # The first post counts with its latest snapshot (5 likes, 1 reply, 400 impressions).
    assert totals.numbers == Numbers(
        impressions=1000, likes=17, replies=1, reposts=2, link_clicks=5
    )
    assert totals.engagements == 6 + 4 + 0 + 15
    assert totals.engagement_rate == 25 / 1000
    assert totals.engagement_rate_basis == "impressions"
    assert stats.simulated is False


def test_the_same_posts_in_new_york_weeks(account, week):
    # In New York the week starts at 04:00 UTC on Monday 23 March, so the 23:30 UTC
    # Sunday post and the one before are outside, and the 22:30 UTC Sunday 29 post inside.
    stats = account_stats(
        account=account,
        period=Period(
            first=date(2026, 3, 23), last=date(2026, 3, 29), timezone_name="America/New_York"
        ),
    )
    assert stats.published == 4
    assert stats.totals.numbers.likes == 2 + 10 + 99


def test_this_period_against_the_previous_one(account, week):
    changes = {
        change.name: change
        for change in stats_compare(
            current=account_stats(account=account, period=WEEK),
            previous=account_stats(account=account, period=WEEK.previous()),
        )
    }
    assert (changes["engagements"].current, changes["engagements"].previous) == (25, 10)
    assert changes["engagements"].ratio == 1.5
    assert changes["published"].difference == 3
    assert changes["engagement_rate"].previous == 10 / 200


def test_without_impressions_the_rate_is_per_post(account):
    job(account, due=utc(2026, 3, 24, 9), snapshots=[(H1, {"likes": 3})])
    job(account, due=utc(2026, 3, 24, 10), snapshots=[(H1, {"likes": 4, "replies": 1})])
    totals = account_stats(account=account, period=WEEK).totals
    assert (totals.engagement_rate, totals.engagement_rate_basis) == (4.0, "post")


def test_a_post_series_and_its_numbers_at_24_hours_and_7_days(account):
    made = job(
        account,
        due=utc(2026, 3, 24, 9),
        snapshots=[
            (H1, {"likes": 1}),
            (timedelta(hours=6), {"likes": 3}),
            (H24, {"likes": 7}),
            (D7, {"likes": 20}),
            (timedelta(days=8), {"likes": 21}),
        ],
    )
    series = post_series(job=made)
    assert [point.numbers.likes for point in series.points] == [1, 3, 7, 20, 21]
    assert series.at_24h.likes == 7
    assert series.at_7d.likes == 20
    assert series.latest.likes == 21


def test_a_post_against_its_accounts_median(account, week):
    against = post_against_account_median(job=week[3], period=WEEK)
    # The week's engagements are 6, 4, 0 and 15: the median is 5.
    assert (against.engagements, against.account_median, against.posts_compared) == (15, 5, 4)
    assert against.ratio == 3


def test_campaign_tag_author_and_workspace(account):
    author = UserFactory()
    campaign = Campaign.objects.create(
        workspace=account.workspace,
        name="Spring",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 30),
    )
    tag = Tag.objects.create(workspace=account.workspace, name="launch")
    in_campaign = job(
        account,
        due=utc(2026, 3, 24, 9),
        campaign=campaign,
        author=author,
        snapshots=[(H1, {"likes": 4, "impressions": 40})],
    )
    in_campaign.post.tags.add(tag)
    job(account, due=utc(2026, 3, 25, 9), snapshots=[(H1, {"likes": 1, "impressions": 10})])
    sandbox = SandboxAccountFactory(workspace=account.workspace)
    job(sandbox, due=utc(2026, 3, 25, 9), campaign=campaign, snapshots=[(H1, {"likes": 50})])

    assert campaign_stats(campaign=campaign, period=WEEK).totals.numbers.likes == 4
    assert campaign_stats(campaign=campaign, period=WEEK, simulated=True).totals.numbers.likes == 50
    assert tag_stats(tag=tag, period=WEEK).published == 1
    assert author_stats(workspace=account.workspace, author=author, period=WEEK).published == 1
    whole = workspace_stats(workspace=account.workspace, period=WEEK)
    assert (whole.published, whole.totals.numbers.likes, whole.totals.engagement_rate) == (
        2,
        5,
        0.1,
    )
    rows = campaign_posts(campaign=campaign, period=WEEK)
    assert [(row.job_id, row.numbers.likes, row.text) for row in rows] == [
        (in_campaign.pk, 4, "Hello from Kairos")
    ]


def test_weekly_totals_are_local_weeks(account, week):
    weeks = account_weekly(
        account=account,
        period=Period(first=date(2026, 3, 16), last=date(2026, 3, 29), timezone_name=PARIS),
    )
    assert [(w.monday, w.totals.posts, w.totals.engagements) for w in weeks] == [
        (date(2026, 3, 16), 1, 10),
        (date(2026, 3, 23), 4, 25),
    ]


def test_followers_over_time_keep_each_local_days_last_reading(account):
    for at, followers in [
        (utc(2026, 3, 24, 8), 100),
        (utc(2026, 3, 24, 20), 105),
        (utc(2026, 3, 24, 23, 30), 110),  # 00:30 on the 25th in Paris
        (utc(2026, 3, 30, 9), 200),  # after the period
    ]:
        FollowerCount.objects.create(account=account, recorded_at=at, followers=followers)
    readings = account_followers(account=account, period=WEEK)
    assert [reading.followers for reading in readings] == [105, 110]
