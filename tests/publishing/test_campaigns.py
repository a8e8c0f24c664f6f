from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

import pytest
import time_machine
from django.core.exceptions import ValidationError

from posts.models import Post
from publishing.campaigns import campaign_day_offsets, campaign_distribute
from publishing.models import JobStatus
from scheduling.models import Schedule
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory
from tests.scheduling.factories import CampaignFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("post_count", "day_count", "offsets"),
    [
        (1, 1, [0]),
        (1, 7, [0]),
        (2, 2, [0, 1]),
        (2, 5, [0, 4]),
        (3, 4, [0, 2, 3]),
        (3, 7, [0, 3, 6]),
        (4, 7, [0, 2, 4, 6]),
        (4, 10, [0, 3, 6, 9]),
        (5, 7, [0, 2, 3, 5, 6]),
        (5, 5, [0, 1, 2, 3, 4]),
    ],
)
def test_posts_go_first_and_last_day_and_evenly_between(post_count, day_count, offsets):
    assert campaign_day_offsets(post_count=post_count, day_count=day_count) == offsets


def test_no_two_posts_share_a_day_while_there_are_enough_days():
    for day_count in range(1, 61):
        for post_count in range(2, day_count + 1):
            offsets = campaign_day_offsets(post_count=post_count, day_count=day_count)
            assert offsets[0] == 0
            assert offsets[-1] == day_count - 1
            assert all(a < b for a, b in pairwise(offsets))
            assert len(offsets) == post_count


def _posts(campaign, count: int) -> list[Post]:
    account = SandboxAccountFactory(workspace=campaign.workspace)
    return [
        PostFactory(workspace=campaign.workspace, campaign=campaign, accounts=[account])
        for _ in range(count)
    ]


def _placed(schedules: list[Schedule]) -> list[tuple[int, str, str]]:
    """Each schedule as (post, local wall time, UTC instant)."""
    return [
        (s.post_id, f"{s.start_wall:%Y-%m-%d %H:%M}", f"{s.next_occurrence_at:%Y-%m-%d %H:%M}")
        for s in schedules
    ]


@time_machine.travel(NOW)
def test_posts_are_placed_oldest_first_at_the_time_of_day_in_the_workspace_zone():
    campaign = CampaignFactory(starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 9))
    first, second, third = _posts(campaign, 3)
    schedules = campaign_distribute(campaign=campaign, actor=None)
    # Paris is UTC+1 in early March.
    assert _placed(schedules) == [
        (first.pk, "2025-03-03 19:00", "2025-03-03 18:00"),
        (second.pk, "2025-03-06 19:00", "2025-03-06 18:00"),
        (third.pk, "2025-03-09 19:00", "2025-03-09 18:00"),
    ]
    assert {s.timezone for s in schedules} == {"Europe/Paris"}
    assert set(Post.objects.values_list("status", flat=True)) == {Post.Status.SCHEDULED}


@time_machine.travel(NOW)
def test_one_post_goes_on_the_first_day_and_two_on_the_first_and_last():
    one = CampaignFactory(starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 9))
    (alone,) = _posts(one, 1)
    two = CampaignFactory(starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 9))
    first, last = _posts(two, 2)
    assert _placed(campaign_distribute(campaign=one, actor=None)) == [
        (alone.pk, "2025-03-03 19:00", "2025-03-03 18:00"),
    ]
    assert _placed(campaign_distribute(campaign=two, actor=None)) == [
        (first.pk, "2025-03-03 19:00", "2025-03-03 18:00"),
        (last.pk, "2025-03-09 19:00", "2025-03-09 18:00"),
    ]


@time_machine.travel(NOW)
def test_the_campaigns_own_zone_wins_and_deleted_posts_are_left_out():
    campaign = CampaignFactory(
        starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 4), timezone="Asia/Tokyo"
    )
    kept, deleted = _posts(campaign, 2)
    Post.objects.filter(pk=deleted.pk).update(deleted_at=NOW)
    schedules = campaign_distribute(campaign=campaign, actor=None, time_of_day=time(9, 30))
    assert _placed(schedules) == [(kept.pk, "2025-03-03 09:30", "2025-03-03 00:30")]
    assert schedules[0].timezone == "Asia/Tokyo"


@time_machine.travel(NOW)
def test_a_spring_forward_weekend_keeps_the_wall_time_and_moves_the_gap_forward():
    # London skips 01:00-02:00 on Sunday 30 March 2025.
    campaign = CampaignFactory(
        starts_on=date(2025, 3, 29), ends_on=date(2025, 3, 31), timezone="Europe/London"
    )
    saturday, sunday, monday = _posts(campaign, 3)
    schedules = campaign_distribute(campaign=campaign, actor=None, time_of_day=time(1, 30))
    assert _placed(schedules) == [
        (saturday.pk, "2025-03-29 01:30", "2025-03-29 01:30"),  # GMT
        # 01:30 does not exist that night: it moves forward by the gap, to 02:30 BST.
        (sunday.pk, "2025-03-30 01:30", "2025-03-30 01:30"),
        (monday.pk, "2025-03-31 01:30", "2025-03-31 00:30"),  # BST
    ]


@time_machine.travel(NOW)
def test_more_posts_than_days_is_refused_with_what_to_change():
    campaign = CampaignFactory(name="Spring", starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 5))
    _posts(campaign, 5)
    with pytest.raises(ValidationError) as caught:
        campaign_distribute(campaign=campaign, actor=None)
    assert caught.value.messages == [
        "Campaign “Spring” has 5 posts but runs for 3 days (03 Mar 2025 to 05 Mar 2025), "
        "and it places at most one post a day. Make it last at least 5 days, or take 2 "
        "posts out of it."
    ]
    assert not Schedule.objects.exists()


@time_machine.travel(NOW)
def test_a_campaign_without_posts_says_so():
    campaign = CampaignFactory(name="Empty")
    with pytest.raises(ValidationError, match="has no posts to distribute; add posts"):
        campaign_distribute(campaign=campaign, actor=None)


@time_machine.travel(NOW)
def test_one_post_that_cannot_be_scheduled_leaves_none_scheduled_and_is_named():
    campaign = CampaignFactory(starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 9))
    first, broken, _ = _posts(campaign, 3)
    broken.targets.all().delete()
    with pytest.raises(ValidationError) as caught:
        campaign_distribute(campaign=campaign, actor=None)
    (message,) = caught.value.messages
    assert message.startswith(f"Post “#{broken.pk} Hello from Kairos” could not be scheduled for ")
    assert "Thu 06 Mar 2025 19:00 Europe/Paris: The post has no accounts" in message
    assert message.endswith(
        "Nothing in the campaign was scheduled; fix this post or take "
        "it out of the campaign, then distribute again."
    )
    assert not Schedule.objects.exists()
    first.refresh_from_db()
    assert first.status == Post.Status.DRAFT


@time_machine.travel(NOW)
def test_a_campaign_day_already_passed_is_refused_like_any_past_time():
    campaign = CampaignFactory(starts_on=date(2025, 2, 28), ends_on=date(2025, 3, 2))
    _posts(campaign, 2)
    with pytest.raises(
        ValidationError, match="2025-02-28 19:00 in Europe/Paris has already passed"
    ):
        campaign_distribute(campaign=campaign, actor=None)
    assert not Schedule.objects.exists()


@time_machine.travel(NOW)
def test_distributing_again_reschedules_by_the_usual_rules():
    campaign = CampaignFactory(starts_on=date(2025, 3, 3), ends_on=date(2025, 3, 4))
    first, _ = _posts(campaign, 2)
    campaign_distribute(campaign=campaign, actor=None)
    waiting = PublishJobFactory(
        post=first, account=first.targets.get().account, occurrence_at=NOW - timedelta(hours=1)
    )
    schedules = campaign_distribute(campaign=campaign, actor=None, time_of_day=time(8))
    assert [s.next_occurrence_at for s in schedules] == [
        datetime(2025, 3, 3, 7, tzinfo=UTC),
        datetime(2025, 3, 4, 7, tzinfo=UTC),
    ]
    assert Schedule.objects.count() == 2
    waiting.refresh_from_db()
    assert waiting.status == JobStatus.CANCELLED
