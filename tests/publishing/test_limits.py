from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import SocialAccount
from posts.models import Post
from publishing.limits import (
    posting_allowed_at,
    posting_limit_conflicts,
    posting_limit_next_fits,
)
from publishing.models import JobStatus
from scheduling.models import Schedule
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory, WorkspaceFactory
from tests.scheduling.factories import PlannedScheduleFactory, PostingLimitFactory

pytestmark = pytest.mark.django_db

# Monday 3 March 2025, 08:00 UTC. The account's workspace is on UTC, so the times
# in messages read as the instants here.
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def _at(hour: int, minute: int = 0, second: int = 0, *, day: int = 3) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def account() -> SocialAccount:
    return SandboxAccountFactory(handle="brand", workspace=WorkspaceFactory(default_timezone="UTC"))


def _limit(account: SocialAccount, **rules) -> None:
    PostingLimitFactory(account=account, **rules)


def _planned(account: SocialAccount, *instants: datetime, **schedule) -> list[Post]:
    posts = []
    for instant in instants:
        post = PostFactory(workspace=account.workspace, accounts=[account])
        PlannedScheduleFactory(post=post, next_occurrence_at=instant, **schedule)
        posts.append(post)
    return posts


def _published(account: SocialAccount, *instants: datetime) -> None:
    for instant in instants:
        PublishJobFactory(
            account=account, status=JobStatus.PUBLISHED, occurrence_at=instant, published_at=instant
        )


# --- When scheduling: spacing, hour and day at their boundaries ----------------------


def test_posts_closer_than_the_spacing_conflict_on_either_side(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    _planned(account, _at(9))
    assert posting_limit_conflicts(account=account, at=_at(9, 5)) == [
        "@brand already has a post at 09:00, 5 minutes before; posts must be 15 minutes apart."
    ]
    assert posting_limit_conflicts(account=account, at=_at(8, 45, 1)) == [
        "@brand already has a post at 09:00, 14 minutes 59 seconds after; posts must be "
        "15 minutes apart."
    ]
    assert posting_limit_conflicts(account=account, at=_at(9)) == [
        "@brand already has a post at 09:00, at the same time; posts must be 15 minutes apart."
    ]


def test_posts_exactly_the_spacing_apart_are_fine(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    _planned(account, _at(9))
    assert posting_limit_conflicts(account=account, at=_at(9, 15)) == []
    assert posting_limit_conflicts(account=account, at=_at(8, 45)) == []
    assert posting_limit_conflicts(account=account, at=_at(9, 15) - SECOND) != []


def test_the_hourly_cap_rolls_over_any_sixty_minutes(account):
    _limit(account, max_per_hour=2)
    _planned(account, _at(9), _at(9, 30))
    message = (
        "@brand already has 2 posts from 09:00 to 09:30; it may post at most 2 times "
        "within any hour."
    )
    assert posting_limit_conflicts(account=account, at=_at(10) - SECOND) == [message]
    assert posting_limit_conflicts(account=account, at=_at(9, 15)) == [message]
    assert posting_limit_conflicts(account=account, at=_at(8, 30, 1)) == [message]
    # An hour after the first of them, or an hour before the last, is fine.
    assert posting_limit_conflicts(account=account, at=_at(10)) == []
    assert posting_limit_conflicts(account=account, at=_at(8, 30)) == []


def test_a_cap_of_one_an_hour_is_put_simply(account):
    _limit(account, max_per_hour=1)
    _planned(account, _at(9))
    assert posting_limit_conflicts(account=account, at=_at(9, 59)) == [
        "@brand already has a post at 09:00; it may post at most once within any hour."
    ]


def test_the_daily_cap_rolls_over_any_twenty_four_hours_and_names_the_days(account):
    _limit(account, max_per_day=2)
    _planned(account, _at(9, day=4), _at(20, day=4))
    assert posting_limit_conflicts(account=account, at=_at(8, 59, day=5)) == [
        "@brand already has 2 posts from Tue 04 Mar 09:00 to Tue 04 Mar 20:00; it may post "
        "at most 2 times within any 24 hours."
    ]
    assert posting_limit_conflicts(account=account, at=_at(20, 1, day=3)) != []
    assert posting_limit_conflicts(account=account, at=_at(9, day=5)) == []
    assert posting_limit_conflicts(account=account, at=_at(20, day=3)) == []


def test_every_broken_rule_is_reported_in_the_workspaces_local_time():
    account = SandboxAccountFactory(handle="brand")  # Europe/Paris, UTC+1 in March
    _limit(account, min_spacing=timedelta(minutes=15), max_per_hour=1, max_per_day=5)
    _planned(account, _at(9))
    assert posting_limit_conflicts(account=account, at=_at(9, 10)) == [
        "@brand already has a post at 10:00, 10 minutes before; posts must be 15 minutes apart.",
        "@brand already has a post at 10:00; it may post at most once within any hour.",
    ]


def test_an_account_without_limits_has_no_conflicts(account):
    _planned(account, _at(9))
    assert posting_limit_conflicts(account=account, at=_at(9)) == []
    assert posting_limit_next_fits(account=account, at=_at(9)) == [_at(9), _at(9, 1), _at(9, 2)]


def test_a_cap_of_zero_is_no_cap_rather_than_holding_every_post(account):
    _limit(account, max_per_hour=0, max_per_day=0)
    _planned(account, _at(9))
    assert posting_limit_conflicts(account=account, at=_at(9)) == []
    assert posting_allowed_at(account=account, at=NOW) == (NOW, "")


# --- When scheduling: what counts ----------------------------------------------------


@time_machine.travel(NOW)
def test_jobs_count_at_when_they_go_or_went_out(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    # Published: when it went out, not the occurrence it was for.
    PublishJobFactory(
        account=account,
        status=JobStatus.PUBLISHED,
        occurrence_at=_at(6),
        published_at=_at(7, 30),
    )
    # Pending (a retry): when it is next sent.
    PublishJobFactory(
        account=account,
        status=JobStatus.PENDING,
        occurrence_at=_at(6, 30),
        next_attempt_at=_at(8, 20),
    )
    # In flight: its occurrence.
    PublishJobFactory(account=account, status=JobStatus.QUEUED, occurrence_at=_at(7))
    PublishJobFactory(account=account, status=JobStatus.RUNNING, occurrence_at=_at(7, 15))
    assert posting_limit_conflicts(account=account, at=_at(7, 40)) == [
        "@brand already has a post at 07:30, 10 minutes before; posts must be 15 minutes apart."
    ]
    assert posting_limit_conflicts(account=account, at=_at(8, 25)) == [
        "@brand already has a post at 08:20, 5 minutes before; posts must be 15 minutes apart."
    ]
    assert posting_limit_conflicts(account=account, at=_at(6, 55)) == [
        "@brand already has a post at 07:00, 5 minutes after; posts must be 15 minutes apart."
    ]
    assert posting_limit_conflicts(account=account, at=_at(7, 45)) == []


@time_machine.travel(NOW)
def test_what_will_never_go_out_does_not_count(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    for status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.MISSED):
        PublishJobFactory(account=account, status=status, occurrence_at=_at(9))
    _planned(account, _at(9), status=Schedule.Status.PAUSED)
    (deleted,) = _planned(account, _at(9))
    Post.objects.filter(pk=deleted.pk).update(deleted_at=NOW)
    _planned(SandboxAccountFactory(workspace=account.workspace), _at(9))
    assert posting_limit_conflicts(account=account, at=_at(9)) == []


@time_machine.travel(NOW)
def test_the_post_being_rescheduled_does_not_count_against_itself_but_its_past_does(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    (post,) = _planned(account, _at(9))
    PublishJobFactory(post=post, account=account, status=JobStatus.PENDING, occurrence_at=_at(9))
    assert posting_limit_conflicts(account=account, at=_at(9, 5), exclude_post_id=post.pk) == []
    PublishJobFactory(
        post=post,
        account=account,
        status=JobStatus.PUBLISHED,
        occurrence_at=_at(7, 55),
        published_at=_at(7, 55),
    )
    assert posting_limit_conflicts(account=account, at=_at(8, 5), exclude_post_id=post.pk) == [
        "@brand already has a post at 07:55, 10 minutes before; posts must be 15 minutes apart."
    ]


# --- Suggestions -----------------------------------------------------------------------


def test_suggestions_jump_past_what_blocks_and_are_alternatives_to_each_other(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    _planned(account, _at(9), _at(9, 20))
    # 09:15 is too close to 09:20; each suggestion then counts as taken.
    assert posting_limit_next_fits(account=account, at=_at(9, 5)) == [
        _at(9, 35),
        _at(9, 50),
        _at(10, 5),
    ]


def test_a_time_that_fits_is_the_first_suggestion(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    _planned(account, _at(9))
    assert posting_limit_next_fits(account=account, at=_at(10, 7, 30), count=2) == [
        _at(10, 7, 30),
        _at(10, 23),
    ]


def test_suggestions_after_a_full_day_take_a_few_jumps_and_two_queries(
    account, django_assert_num_queries
):
    _limit(account, max_per_day=2)
    _planned(account, _at(9, day=4), _at(12, day=4))
    account = SocialAccount.objects.get(pk=account.pk)
    with django_assert_num_queries(2):
        fits = posting_limit_next_fits(account=account, at=_at(15, day=4))
    assert fits == [_at(9, day=5), _at(12, day=5), _at(9, day=6)]


def test_suggestions_are_whole_minutes(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    _published(account, _at(7, 55, 7))
    assert posting_limit_next_fits(account=account, at=_at(8)) == [
        _at(8, 11),
        _at(8, 26),
        _at(8, 41),
    ]


# --- At dispatch -----------------------------------------------------------------------


def test_an_account_without_limits_may_post_at_once_for_one_look_up(
    account, django_assert_num_queries
):
    account = SocialAccount.objects.get(pk=account.pk)
    with django_assert_num_queries(1):
        assert posting_allowed_at(account=account, at=NOW) == (NOW, "")
    prefetched = SocialAccount.objects.select_related("posting_limit").get(pk=account.pk)
    with django_assert_num_queries(0):
        assert posting_allowed_at(account=prefetched, at=NOW) == (NOW, "")


def test_a_limited_account_costs_two_queries_however_long_its_history(
    account, django_assert_num_queries
):
    _limit(account, min_spacing=timedelta(minutes=15), max_per_hour=4, max_per_day=25)
    # Every 20 minutes back from 07:00, for longer than a day.
    _published(account, *(_at(7) - n * timedelta(minutes=20) for n in range(90)))
    prefetched = SocialAccount.objects.select_related("posting_limit", "workspace").get(
        pk=account.pk
    )
    with django_assert_num_queries(2):
        allowed, _ = posting_allowed_at(account=prefetched, at=NOW)
    # The 25th most recent went out on Sunday at 23:00.
    assert allowed == _at(23)


def test_dispatch_waits_for_the_spacing_to_the_second(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    _published(account, _at(7, 50, 7))
    assert posting_allowed_at(account=account, at=NOW) == (
        _at(8, 5, 7),
        "@brand's posts must be 15 minutes apart and its last post was at 07:50; this one "
        "waits until 08:05.",
    )
    assert posting_allowed_at(account=account, at=_at(8, 5, 7)) == (_at(8, 5, 7), "")


def test_dispatch_waits_until_the_oldest_of_the_hour_is_an_hour_old(account):
    _limit(account, max_per_hour=2)
    _published(account, _at(7, 10), _at(7, 40))
    assert posting_allowed_at(account=account, at=NOW) == (
        _at(8, 10),
        "@brand may post at most 2 times within any hour and has posted 2 times since 07:10; "
        "this one waits until 08:10.",
    )
    assert posting_allowed_at(account=account, at=_at(8, 10)) == (_at(8, 10), "")


def test_dispatch_waits_for_the_day_and_the_longest_wait_wins(account):
    _limit(account, min_spacing=timedelta(minutes=15), max_per_day=3)
    _published(account, _at(9, day=2), _at(12, day=2), _at(7, 55))
    assert posting_allowed_at(account=account, at=NOW) == (
        _at(9),
        "@brand may post at most 3 times within any 24 hours and has posted 3 times since "
        "Sun 02 Mar 09:00; this one waits until 09:00.",
    )
    assert posting_allowed_at(account=account, at=_at(9)) == (_at(9), "")


def test_jobs_in_flight_count_as_going_out_now_whatever_their_occurrence(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    PublishJobFactory(account=account, status=JobStatus.QUEUED, occurrence_at=_at(6))
    allowed, reason = posting_allowed_at(account=account, at=NOW)
    assert allowed == _at(8, 15)
    assert "its last post was at 08:00" in reason


def test_dispatch_counts_only_what_went_out_or_is_going_out(account):
    _limit(account, min_spacing=timedelta(minutes=15))
    _planned(account, _at(7, 55), _at(8, 5))
    PublishJobFactory(account=account, status=JobStatus.PENDING, occurrence_at=_at(7, 58))
    for status in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.NEEDS_REVIEW):
        PublishJobFactory(account=account, status=status, occurrence_at=_at(7, 59))
    # Went out at 07:00 for an occurrence at 07:59: it counts when it went out.
    PublishJobFactory(
        account=account,
        status=JobStatus.PUBLISHED,
        occurrence_at=_at(7, 59),
        published_at=_at(7),
    )
    assert posting_allowed_at(account=account, at=NOW) == (NOW, "")
