"""The tick with recurring schedules, priorities, pauses and occurrence changes."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import SocialAccount
from posts.models import Post
from publishing import dispatch
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.models import PublishJob, SandboxPost
from publishing.plans import schedule_set
from publishing.services import post_repeats_identical_text
from scheduling.models import PostingLimit, Schedule
from scheduling.services import (
    schedule_end,
    schedule_occurrence_move,
    schedule_occurrence_skip,
    schedule_pause,
    schedule_resume,
)
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Paris


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    def run(at):
        with django_capture_on_commit_callbacks(execute=True):
            return dispatch.tick(now=at)

    return run


def daily_post(*, texts=("Good morning",), variants=(), network="sandbox", start=MONDAY):
    account = SandboxAccountFactory(network=network)
    post = PostFactory(workspace=account.workspace, accounts=[account], texts=list(texts))
    Post.objects.filter(pk=post.pk).update(text_variants=list(variants))
    post.refresh_from_db()
    with time_machine.travel(start - timedelta(hours=1)):
        schedule_set(
            post=post,
            kind=Schedule.Kind.RRULE,
            local_date=date(2026, 3, 2),
            local_time=time(9, 0),
            timezone_name="Europe/Paris",
            rrule="FREQ=DAILY",
            actor=None,
        )
    return post


def run_occurrence(tick, at):
    tick(at)
    for job in PublishJob.objects.filter(status=S.QUEUED):
        with time_machine.travel(at + timedelta(seconds=1)):
            job_execute(job_id=job.pk)


def test_each_occurrence_of_a_daily_post_is_its_own_job(tick):
    post = daily_post()
    for day in range(3):
        run_occurrence(tick, MONDAY + timedelta(days=day))
    jobs = PublishJob.objects.filter(post=post).order_by("occurrence_at")
    assert [(j.occurrence_number, j.status) for j in jobs] == [
        (1, S.PUBLISHED),
        (2, S.PUBLISHED),
        (3, S.PUBLISHED),
    ]
    assert [j.occurrence_at for j in jobs] == [MONDAY + timedelta(days=d) for d in range(3)]
    assert post.schedule.__class__.objects.get(pk=post.schedule.pk).next_occurrence_at == (
        MONDAY + timedelta(days=3)
    )


def test_daily_at_nine_stays_nine_local_across_the_dst_change(tick):
    # Paris springs forward on Sunday 29 March 2026: 09:00 is 08:00 UTC before, 07:00 after.
    start = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    post = daily_post(start=start)
    Schedule.objects.filter(post=post).update(
        local_date=date(2026, 3, 27), next_occurrence_at=start
    )
    for at in [start, start + timedelta(days=1), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)]:
        run_occurrence(tick, at)
    utc_hours = [
        (j.occurrence_at.day, j.occurrence_at.hour)
        for j in PublishJob.objects.filter(post=post).order_by("occurrence_at")
    ]
    assert utc_hours == [(27, 8), (28, 8), (29, 7)]


def test_variants_and_template_variables_make_each_occurrence_different(tick):
    daily_post(texts=["Day {n}: happy {weekday}, {date}!"], variants=["Hello again ({n})"])
    for day in range(3):
        run_occurrence(tick, MONDAY + timedelta(days=day))
    texts = list(SandboxPost.objects.order_by("created_at").values_list("text", flat=True))
    assert texts == [
        "Day 1: happy Monday, 2 March 2026!",
        "Hello again (2)",
        "Day 3: happy Wednesday, 4 March 2026!",
    ]


def test_the_composer_warns_when_a_recurring_x_post_would_repeat_itself():
    # Each with words of its own: two X accounts may not say the same at once.
    repeating = daily_post(texts=["Good morning"], network=SocialAccount.Network.X)
    assert post_repeats_identical_text(post=repeating)
    numbered = daily_post(texts=["Tip #{n}"], network=SocialAccount.Network.X)
    assert not post_repeats_identical_text(post=numbered)
    varied = daily_post(texts=["Hi"], variants=["Other words"], network=SocialAccount.Network.X)
    assert not post_repeats_identical_text(post=varied)
    assert not post_repeats_identical_text(post=daily_post(texts=["Sandbox only"]))


def test_a_skipped_occurrence_makes_no_job_and_the_next_goes_out(tick):
    post = daily_post()
    schedule = post.schedule
    with time_machine.travel(MONDAY - timedelta(hours=1)):
        schedule_occurrence_skip(schedule=schedule, occurrence_at=MONDAY, actor=None)
    schedule.refresh_from_db()
    assert schedule.next_occurrence_at == MONDAY + timedelta(days=1)
    run_occurrence(tick, MONDAY)
    assert not PublishJob.objects.filter(post=post).exists()
    run_occurrence(tick, MONDAY + timedelta(days=1))
    assert PublishJob.objects.get(post=post).occurrence_at == MONDAY + timedelta(days=1)


def test_a_moved_occurrence_goes_out_at_its_new_time_once(tick):
    post = daily_post()
    schedule = post.schedule
    tuesday = MONDAY + timedelta(days=1)
    with time_machine.travel(MONDAY + timedelta(hours=1)):
        schedule_occurrence_move(
            schedule=schedule,
            occurrence_at=tuesday,
            local_date=date(2026, 3, 3),
            local_time=time(12, 30),
            actor=None,
        )
    moved = datetime(2026, 3, 3, 11, 30, tzinfo=UTC)
    for at in [tuesday, moved, MONDAY + timedelta(days=2)]:
        run_occurrence(tick, at)
    assert [j.occurrence_at for j in PublishJob.objects.filter(post=post)] == [
        MONDAY + timedelta(days=2),
        moved,
    ]


def test_an_occurrence_the_rule_does_not_have_cannot_be_skipped():
    schedule = daily_post().schedule
    with time_machine.travel(MONDAY - timedelta(hours=1)), pytest.raises(Exception) as caught:
        schedule_occurrence_skip(
            schedule=schedule, occurrence_at=MONDAY + timedelta(minutes=5), actor=None
        )
    assert "not an upcoming occurrence" in str(caught.value)


def test_a_paused_schedule_makes_nothing_and_resumes_from_now(tick):
    post = daily_post()
    schedule = post.schedule
    with time_machine.travel(MONDAY - timedelta(hours=1)):
        assert schedule_pause(schedule=schedule, actor=None)
    run_occurrence(tick, MONDAY)
    assert not PublishJob.objects.exists()
    with time_machine.travel(MONDAY + timedelta(days=1, hours=2)):
        assert schedule_resume(schedule=schedule, actor=None)
    schedule.refresh_from_db()
    # Monday and Tuesday fell in the pause and are not made up for.
    assert schedule.next_occurrence_at == MONDAY + timedelta(days=2)


def test_ending_a_series_stops_it(tick):
    post = daily_post()
    run_occurrence(tick, MONDAY)
    with time_machine.travel(MONDAY + timedelta(hours=1)):
        schedule_end(schedule=post.schedule, actor=None)
    run_occurrence(tick, MONDAY + timedelta(days=1))
    assert PublishJob.objects.filter(post=post).count() == 1
    assert Schedule.objects.get(post=post).status == Schedule.Status.FINISHED


def test_urgent_jobs_are_queued_before_older_normal_ones():
    account = SandboxAccountFactory()
    normal = [
        PublishJobFactory(
            account=account,
            post__workspace=account.workspace,
            occurrence_at=MONDAY - timedelta(minutes=n + 1),
        )
        for n in range(3)
    ]
    urgent = PublishJobFactory(
        account=account, post__workspace=account.workspace, occurrence_at=MONDAY, priority=0
    )
    # A batch of two: the urgent job first, then the oldest normal one.
    result = dispatch.jobs_dispatch(now=MONDAY, limit=2)
    assert result == (2, 0)
    queued = set(PublishJob.objects.filter(status=S.QUEUED).values_list("pk", flat=True))
    assert queued == {urgent.pk, normal[2].pk}


def test_jobs_of_a_paused_workspace_or_account_wait_without_failing(tick):
    held_by_workspace = PublishJobFactory(occurrence_at=MONDAY)
    held_by_workspace.post.workspace.__class__.objects.filter(
        pk=held_by_workspace.post.workspace_id
    ).update(publishing_paused_at=MONDAY)
    held_by_account = PublishJobFactory(occurrence_at=MONDAY)
    SocialAccount.objects.filter(pk=held_by_account.account_id).update(
        status=SocialAccount.Status.PAUSED
    )
    free = PublishJobFactory(occurrence_at=MONDAY)
    tick(MONDAY + timedelta(minutes=1))
    statuses = dict(PublishJob.objects.values_list("pk", "status"))
    assert statuses == {
        held_by_workspace.pk: S.PENDING,
        held_by_account.pk: S.PENDING,
        free.pk: S.QUEUED,
    }


def test_a_job_that_would_break_a_posting_limit_waits_with_the_reason(tick):
    account = SandboxAccountFactory()
    PostingLimit.objects.create(account=account, min_spacing=timedelta(minutes=15))
    earlier = PublishJobFactory(
        account=account, post__workspace=account.workspace, occurrence_at=MONDAY, status=S.QUEUED
    )
    PublishJob.objects.filter(pk=earlier.pk).update(
        status=S.PUBLISHED, published_at=MONDAY - timedelta(minutes=5)
    )
    first, second = (
        PublishJobFactory(account=account, post__workspace=account.workspace, occurrence_at=MONDAY)
        for _ in range(2)
    )
    tick(MONDAY)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.PENDING, S.PENDING)
    assert first.next_attempt_at == MONDAY + timedelta(minutes=10)
    assert "15 minutes apart" in first.error_message
    tick(MONDAY + timedelta(minutes=10))
    statuses = sorted(
        PublishJob.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    )
    # One goes; the other now waits 15 minutes for it.
    assert statuses == [S.PENDING, S.QUEUED]
    waiting = PublishJob.objects.get(pk__in=[first.pk, second.pk], status=S.PENDING)
    assert waiting.next_attempt_at == MONDAY + timedelta(minutes=25)


def test_scheduling_into_a_posting_limit_is_refused_with_times_that_fit():
    post = daily_post()
    account = post.targets.get().account
    PostingLimit.objects.create(account=account, min_spacing=timedelta(minutes=30))
    other = PostFactory(workspace=account.workspace, accounts=[account])
    with time_machine.travel(MONDAY - timedelta(hours=1)), pytest.raises(ValidationError) as caught:
        schedule_set(
            post=other,
            kind=Schedule.Kind.ONCE,
            local_date=date(2026, 3, 2),
            local_time=time(9, 10),
            timezone_name="Europe/Paris",
            actor=None,
        )
    messages = caught.value.message_dict["local_time"]
    assert any("30 minutes apart" in message for message in messages)
    assert messages[-1].startswith(f"{account} could post at Mon 02 Mar 09:30")
