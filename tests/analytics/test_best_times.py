"""Best times to post: local weekday × hour cells across the Paris DST change, the
confidence rule, and the fall-back to queue slots."""

from datetime import UTC, datetime, time, timedelta

import pytest

from accounts.models import AuditEvent, SocialAccount
from analytics.best_times import MIN_POSTS_FOR_ADVICE, best_times
from analytics.models import MetricsSnapshot
from publishing.models import JobStatus
from publishing.slots import slot_add
from scheduling.models import QueueSlot
from tests.factories import PostFactory, PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def account():
    return SandboxAccountFactory(
        network=SocialAccount.Network.X, workspace__default_timezone="Europe/Paris"
    )


def published(account, at: datetime, likes: int) -> None:
    job = PublishJobFactory(
        post=PostFactory(workspace=account.workspace),
        account=account,
        occurrence_at=at,
        status=JobStatus.PUBLISHED,
        published_at=at,
    )
    MetricsSnapshot.objects.create(
        job=job, due_at=at + timedelta(hours=1), collected_at=at, likes=likes
    )


def test_the_confidence_rule_needs_at_least_four_posts():
    assert MIN_POSTS_FOR_ADVICE >= 4


def test_cells_are_local_across_the_dst_change_and_thin_cells_give_no_advice(account):
    # Mondays at 09:30 in Paris: 08:30 UTC before 29 March, 07:30 UTC after.
    for at, likes in [
        (utc(2026, 3, 16, 8, 30), 10),
        (utc(2026, 3, 23, 8, 30), 20),
        (utc(2026, 3, 30, 7, 30), 30),
        (utc(2026, 4, 6, 7, 30), 40),
        (utc(2026, 4, 13, 7, 30), 50),
    ]:
        published(account, at, likes)
    # Tuesdays at 18:10 in Paris, one like each.
    for day in (17, 24, 31):
        published(account, utc(2026, 3, day, 17 if day < 29 else 16, 10), 1)
    for day in (7, 14):
        published(account, utc(2026, 4, day, 16, 10), 1)
    # Three brilliant Wednesdays at noon: luck, not a pattern.
    for day in (1, 8, 15):
        published(account, utc(2026, 4, day, 10), 1000)

    times = best_times(account=account, now=NOW)

    monday_9 = times.cell(0, 9)
    assert (monday_9.posts, monday_9.engagements, monday_9.mean) == (5, 150, 30)
    assert times.cell(0, 8).posts == 0 and times.cell(0, 7).posts == 0
    assert (times.cell(1, 18).posts, times.cell(1, 18).mean) == (5, 1)
    assert (times.cell(2, 12).posts, times.cell(2, 12).confident) == (3, False)
    assert [(s.weekday_name, s.local_time, s.source) for s in times.suggestions] == [
        ("Monday", time(9), "history"),
        ("Tuesday", time(18), "history"),
    ]
    assert times.thin is False
    assert times.posts == 13


def test_thin_history_says_so_and_falls_back_to_queue_slots(account):
    for day in (1, 8, 15):
        published(account, utc(2026, 4, day, 10), 1000)
    QueueSlot.objects.create(account=account, weekday=4, local_time=time(16, 30))

    times = best_times(account=account, now=NOW)

    assert times.thin is True
    assert [(s.weekday_name, s.local_time, s.source) for s in times.suggestions] == [
        ("Friday", time(16, 30), "queue slot")
    ]
    assert "Not enough history" in times.message()
    assert "queue slots meanwhile" in times.message()


def test_no_history_and_no_slots(account):
    times = best_times(account=account, now=NOW)
    assert (times.thin, times.suggestions) == (True, [])
    assert "no queue slots either" in times.message()


def test_a_suggestion_becomes_a_queue_slot_once(account):
    slot = slot_add(account=account, weekday=0, local_time=time(9), actor=None)
    again = slot_add(account=account, weekday=0, local_time=time(9), actor=None)

    assert slot == again
    assert QueueSlot.objects.filter(account=account).count() == 1
    assert AuditEvent.objects.filter(action="queue_slot.created").count() == 1
