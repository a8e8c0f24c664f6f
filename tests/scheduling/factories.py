from datetime import UTC, date, time

import factory

from posts.models import Campaign
from scheduling.models import PostingLimit, QueueSlot, Schedule
from tests.factories import PostFactory, SandboxAccountFactory, WorkspaceFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    starts_on = date(2025, 3, 3)
    ends_on = date(2025, 3, 9)


class QueueSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueSlot

    account = factory.SubFactory(SandboxAccountFactory)
    weekday = QueueSlot.Weekday.MONDAY
    local_time = time(9, 0)


class PostingLimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostingLimit

    account = factory.SubFactory(SandboxAccountFactory)


class PlannedScheduleFactory(factory.django.DjangoModelFactory):
    """An active one-off schedule whose next occurrence is `next_occurrence_at` (UTC).

    Made directly, without `schedule_once`, so a test can plan posts anywhere in time.
    """

    class Meta:
        model = Schedule

    post = factory.SubFactory(PostFactory)
    kind = Schedule.Kind.ONCE
    timezone = "UTC"
    local_date = factory.LazyAttribute(lambda s: s.next_occurrence_at.astimezone(UTC).date())
    local_time = factory.LazyAttribute(lambda s: s.next_occurrence_at.astimezone(UTC).time())
    status = Schedule.Status.ACTIVE
