from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.core.exceptions import ValidationError

from posts.models import Post
from publishing.models import JobStatus
from publishing.slots import (
    SlotSummary,
    post_add_to_queue,
    slot_next_free,
    slots_for_account,
)
from scheduling.models import QueueSlot, Schedule
from tests.factories import (
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
)
from tests.scheduling.factories import PlannedScheduleFactory, QueueSlotFactory

pytestmark = pytest.mark.django_db

# Monday 3 March 2025, 13:00 in Paris (the factories' workspace zone, UTC+1 until 30 March).
NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
MON, TUE, WED, SUN = (
    QueueSlot.Weekday.MONDAY,
    QueueSlot.Weekday.TUESDAY,
    QueueSlot.Weekday.WEDNESDAY,
    QueueSlot.Weekday.SUNDAY,
)


def _account_with_slots(*slots: tuple[int, time], workspace=None):
    account = SandboxAccountFactory(**({"workspace": workspace} if workspace else {}))
    for weekday, local_time in slots:
        QueueSlotFactory(account=account, weekday=weekday, local_time=local_time)
    return account


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_next_slot_is_the_earliest_after_the_instant_in_the_workspace_zone():
    account = _account_with_slots((MON, time(9)), (WED, time(14)))
    # Monday 09:00 has passed; Wednesday 14:00 in Paris is 13:00 UTC.
    assert slot_next_free(accounts=[account], after=NOW) == _utc(2025, 3, 5, 13)


def test_a_slot_exactly_at_the_instant_is_not_after_it():
    account = _account_with_slots((MON, time(9)), (WED, time(14)))
    assert slot_next_free(accounts=[account], after=_utc(2025, 3, 5, 13)) == _utc(2025, 3, 10, 8)


def test_several_accounts_share_only_the_slots_all_of_them_have():
    workspace = WorkspaceFactory()
    brand = _account_with_slots((MON, time(9)), (TUE, time(9)), workspace=workspace)
    shop = _account_with_slots((TUE, time(9)), (WED, time(9)), workspace=workspace)
    assert slot_next_free(accounts=[brand, shop], after=NOW) == _utc(2025, 3, 4, 8)


def test_accounts_in_different_zones_meet_at_the_same_instant():
    paris = _account_with_slots((TUE, time(10)))
    london = _account_with_slots(
        (TUE, time(9)), workspace=WorkspaceFactory(default_timezone="Europe/London")
    )
    assert slot_next_free(accounts=[paris, london], after=NOW) == _utc(2025, 3, 4, 9)


def test_accounts_without_a_common_slot_have_no_free_slot():
    brand = _account_with_slots((MON, time(9)))
    shop = _account_with_slots((MON, time(9, 30)), workspace=brand.workspace)
    assert slot_next_free(accounts=[brand, shop], after=NOW) is None


def test_a_slot_held_by_another_posts_schedule_on_any_of_the_accounts_is_taken():
    workspace = WorkspaceFactory()
    brand = _account_with_slots((TUE, time(9)), workspace=workspace)
    shop = _account_with_slots((TUE, time(9)), workspace=workspace)
    other = PostFactory(workspace=workspace, accounts=[shop])
    PlannedScheduleFactory(post=other, next_occurrence_at=_utc(2025, 3, 4, 8))
    assert slot_next_free(accounts=[brand, shop], after=NOW) == _utc(2025, 3, 11, 8)
    # Its own schedule does not hold the slot against the post itself.
    assert slot_next_free(accounts=[shop], after=NOW, exclude_post_id=other.pk) == _utc(
        2025, 3, 4, 8
    )


def test_schedules_that_will_not_fire_do_not_hold_a_slot():
    account = _account_with_slots((TUE, time(9)))
    paused = PostFactory(workspace=account.workspace, accounts=[account])
    PlannedScheduleFactory(
        post=paused, next_occurrence_at=_utc(2025, 3, 4, 8), status=Schedule.Status.PAUSED
    )
    deleted = PostFactory(workspace=account.workspace, accounts=[account])
    PlannedScheduleFactory(post=deleted, next_occurrence_at=_utc(2025, 3, 4, 8))
    Post.objects.filter(pk=deleted.pk).update(deleted_at=NOW)
    assert slot_next_free(accounts=[account], after=NOW) == _utc(2025, 3, 4, 8)


@pytest.mark.parametrize(
    ("status", "holds"),
    [
        (JobStatus.PENDING, True),
        (JobStatus.QUEUED, True),
        (JobStatus.RUNNING, True),
        (JobStatus.PUBLISHED, True),
        (JobStatus.FAILED, False),
        (JobStatus.CANCELLED, False),
        (JobStatus.MISSED, False),
    ],
)
def test_a_job_for_that_occurrence_holds_the_slot_unless_it_will_never_go_out(status, holds):
    account = _account_with_slots((TUE, time(9)))
    PublishJobFactory(account=account, occurrence_at=_utc(2025, 3, 4, 8), status=status)
    expected = _utc(2025, 3, 11, 8) if holds else _utc(2025, 3, 4, 8)
    assert slot_next_free(accounts=[account], after=NOW) == expected


def test_the_search_stops_at_the_horizon():
    account = _account_with_slots((MON, time(9)))
    mondays = [_utc(2025, 3, 10, 8), _utc(2025, 3, 17, 8), _utc(2025, 3, 24, 8)]
    # Paris is on summer time from 30 March: Monday 09:00 is then 07:00 UTC.
    mondays.append(_utc(2025, 3, 31, 7))
    for instant in mondays:
        post = PostFactory(workspace=account.workspace, accounts=[account])
        PlannedScheduleFactory(post=post, next_occurrence_at=instant)
    assert slot_next_free(accounts=[account], after=NOW) is None
    assert slot_next_free(accounts=[account], after=NOW, horizon_days=35) == _utc(2025, 4, 7, 7)


@time_machine.travel(NOW)
def test_adding_to_the_queue_schedules_the_slots_wall_time_in_the_workspace_zone():
    workspace = WorkspaceFactory()
    brand = _account_with_slots((TUE, time(9)), (WED, time(9)), workspace=workspace)
    shop = _account_with_slots((WED, time(9)), workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[brand, shop])
    schedule = post_add_to_queue(post=post, actor=None)
    assert (schedule.local_date, schedule.local_time, schedule.timezone) == (
        date(2025, 3, 5),
        time(9),
        "Europe/Paris",
    )
    assert schedule.next_occurrence_at == _utc(2025, 3, 5, 8)
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED


@time_machine.travel(NOW)
def test_posts_added_in_turn_take_the_next_free_slots():
    account = _account_with_slots((TUE, time(9)), (WED, time(9)))
    posts = [PostFactory(workspace=account.workspace, accounts=[account]) for _ in range(3)]
    instants = [post_add_to_queue(post=post, actor=None).next_occurrence_at for post in posts]
    assert instants == [_utc(2025, 3, 4, 8), _utc(2025, 3, 5, 8), _utc(2025, 3, 11, 8)]
    # Queued again, a post may keep its own slot.
    assert post_add_to_queue(post=posts[0], actor=None).next_occurrence_at == _utc(2025, 3, 4, 8)


@time_machine.travel(datetime(2025, 3, 8, 12, 0, tzinfo=UTC))
def test_a_slot_in_the_spring_forward_gap_moves_forward_by_the_gap():
    # New York skips 02:00-03:00 on Sunday 9 March 2025.
    workspace = WorkspaceFactory(default_timezone="America/New_York")
    account = _account_with_slots((SUN, time(2, 30)), (SUN, time(3, 30)), workspace=workspace)
    first = PostFactory(workspace=workspace, accounts=[account])
    schedule = post_add_to_queue(post=first, actor=None)
    # 02:30 does not exist that night: it is 03:30 EDT, the same instant as the 03:30
    # slot, so the two slots are one that week. The schedule keeps the wall time.
    assert schedule.next_occurrence_at == _utc(2025, 3, 9, 7, 30)
    assert (schedule.local_date, schedule.local_time) == (date(2025, 3, 9), time(2, 30))
    second = PostFactory(workspace=workspace, accounts=[account])
    # A week later 02:30 exists again (EDT).
    assert post_add_to_queue(post=second, actor=None).next_occurrence_at == _utc(2025, 3, 16, 6, 30)


@time_machine.travel(NOW)
def test_a_post_without_accounts_cannot_be_queued():
    with pytest.raises(ValidationError, match="The post has no accounts; choose at least one"):
        post_add_to_queue(post=PostFactory(), actor=None)


@time_machine.travel(NOW)
def test_an_account_without_slots_is_named():
    workspace = WorkspaceFactory()
    brand = _account_with_slots((TUE, time(9)), workspace=workspace)
    shop = SandboxAccountFactory(workspace=workspace, handle="shop")
    post = PostFactory(workspace=workspace, accounts=[brand, shop])
    with pytest.raises(ValidationError) as caught:
        post_add_to_queue(post=post, actor=None)
    assert caught.value.messages == [
        "@shop has no queue slots; add slots under Scheduling > Queue slots, or schedule the "
        "post at a time of your choosing."
    ]


@time_machine.travel(NOW)
def test_accounts_without_a_shared_slot_are_told_what_to_do():
    workspace = WorkspaceFactory()
    brand = _account_with_slots((TUE, time(9)), workspace=workspace)
    shop = _account_with_slots((TUE, time(10)), workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[brand, shop])
    with pytest.raises(ValidationError) as caught:
        post_add_to_queue(post=post, actor=None)
    assert caught.value.messages == [
        f"@{brand.handle}, @{shop.handle} have no queue slot in common in the next 28 days; "
        "give them a shared weekday and time, or queue the post for each account separately."
    ]


@time_machine.travel(NOW)
def test_a_full_queue_is_refused_and_schedules_nothing():
    account = _account_with_slots((TUE, time(9)))
    for instant in [_utc(2025, 3, 4, 8), _utc(2025, 3, 11, 8), _utc(2025, 3, 18, 8)]:
        other = PostFactory(workspace=account.workspace, accounts=[account])
        PlannedScheduleFactory(post=other, next_occurrence_at=instant)
    # 25 March, the last Tuesday within 28 days, is held by a job.
    PublishJobFactory(account=account, occurrence_at=_utc(2025, 3, 25, 8))
    post = PostFactory(workspace=account.workspace, accounts=[account])
    with pytest.raises(ValidationError, match="in the next 28 days is taken by other posts"):
        post_add_to_queue(post=post, actor=None)
    assert not Schedule.objects.filter(post=post).exists()


@time_machine.travel(NOW)
def test_slots_are_listed_with_their_next_instant():
    account = _account_with_slots((WED, time(14)), (MON, time(9)), (MON, time(18, 30)))
    assert slots_for_account(account=account) == [
        SlotSummary("Monday", time(9), _utc(2025, 3, 10, 8)),
        SlotSummary("Monday", time(18, 30), _utc(2025, 3, 3, 17, 30)),
        SlotSummary("Wednesday", time(14), _utc(2025, 3, 5, 13)),
    ]
    assert slots_for_account(account=SandboxAccountFactory()) == []
