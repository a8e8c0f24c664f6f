"""Skipping or moving one occurrence from the admin (scheduling/admin.py:
ScheduleAdmin.occurrence_change_view, over scheduling/services.py)."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEvent, Membership
from publishing.plans import schedule_set
from scheduling.models import OccurrenceChange, Schedule
from scheduling.selectors import schedule_upcoming
from tests.factories import MembershipFactory, PostFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
ZONE = "America/New_York"
# Every day at 09:00 New York (13:00 UTC in June), from 2 June.
DAY_2 = datetime(2026, 6, 2, 13, 0, tzinfo=UTC)
DAY_3 = datetime(2026, 6, 3, 13, 0, tzinfo=UTC)
DAY_4 = datetime(2026, 6, 4, 13, 0, tzinfo=UTC)


def daily(workspace) -> Schedule:
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account], texts=["Daily {n}"])
    return schedule_set(
        post=post,
        kind=Schedule.Kind.INTERVAL,
        every=1,
        unit=Schedule.Unit.DAYS,
        local_date=date(2026, 6, 2),
        local_time=time(9, 0),
        timezone_name=ZONE,
        actor=None,
    )


def signed_in(client, role, **membership) -> Membership:
    member = MembershipFactory(role=role, **membership)
    client.force_login(member.user)
    return member


def url(schedule: Schedule) -> str:
    return reverse("admin:scheduling_schedule_occurrence", args=[schedule.pk])


@time_machine.travel(NOW, tick=False)
def test_an_editor_skips_a_chosen_date_and_the_series_goes_on(client):
    member = signed_in(client, Membership.Role.EDITOR)
    schedule = daily(member.workspace)

    page = client.get(url(schedule))
    response = client.post(url(schedule), {"occurrence": DAY_3.isoformat(), "change": "skip"})

    assert "Wed 2026-06-03 09:00:00 America/New_York" in page.content.decode()
    assert response.status_code == 302
    assert schedule_upcoming(schedule=schedule, after=NOW, count=2) == [DAY_2, DAY_4]
    skipped = OccurrenceChange.objects.get(schedule=schedule)
    assert (skipped.original_at, skipped.moved_to) == (DAY_3, None)
    event = AuditEvent.objects.get(action="schedule.occurrence_skipped")
    assert event.actor == member.user
    assert event.data["occurrence_at"] == DAY_3.isoformat()


@time_machine.travel(NOW, tick=False)
def test_an_editor_moves_one_occurrence_to_a_wall_time_in_the_schedules_zone(client):
    member = signed_in(client, Membership.Role.EDITOR)
    schedule = daily(member.workspace)

    response = client.post(
        url(schedule),
        {
            "occurrence": DAY_3.isoformat(),
            "change": "move",
            "local_date": "2026-06-03",
            "local_time": "17:30:00",
        },
        follow=True,
    )

    moved_to = datetime(2026, 6, 3, 21, 30, tzinfo=UTC)  # 17:30 EDT
    assert OccurrenceChange.objects.get(schedule=schedule).moved_to == moved_to
    assert schedule_upcoming(schedule=schedule, after=NOW, count=3) == [DAY_2, moved_to, DAY_4]
    assert "is moved to Wed 2026-06-03 17:30:00 America/New_York" in response.content.decode()
    assert AuditEvent.objects.filter(action="schedule.occurrence_moved", actor=member.user).exists()


@time_machine.travel(NOW, tick=False)
def test_a_move_into_the_past_or_without_a_time_is_refused_on_its_field(client):
    member = signed_in(client, Membership.Role.EDITOR)
    schedule = daily(member.workspace)

    past = client.post(
        url(schedule),
        {
            "occurrence": DAY_2.isoformat(),
            "change": "move",
            "local_date": "2026-05-30",
            "local_time": "09:00",
        },
    )
    no_time = client.post(
        url(schedule), {"occurrence": DAY_2.isoformat(), "change": "move", "local_date": ""}
    )
    forged = client.post(url(schedule), {"occurrence": "2026-06-02T14:00:00+00:00"})

    assert past.status_code == no_time.status_code == forged.status_code == 200
    assert "Move the occurrence to a time still ahead." in past.content.decode()
    assert "Give the date and time to move the occurrence to." in no_time.content.decode()
    assert "Select a valid choice" in forged.content.decode()
    assert not OccurrenceChange.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_viewer_may_not_change_plans_and_sees_no_link(client):
    member = signed_in(client, Membership.Role.VIEWER)
    schedule = daily(member.workspace)

    refused = client.post(url(schedule), {"occurrence": DAY_3.isoformat(), "change": "skip"})
    schedule_page = client.get(reverse("admin:scheduling_schedule_change", args=[schedule.pk]))
    post_page = client.get(reverse("admin:posts_post_change", args=[schedule.post.pk]))

    assert refused.status_code == 403
    assert not OccurrenceChange.objects.exists()
    assert url(schedule) not in schedule_page.content.decode()
    assert url(schedule) not in post_page.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_schedule_and_post_pages_link_an_editor_to_it(client):
    member = signed_in(client, Membership.Role.EDITOR)
    schedule = daily(member.workspace)

    schedule_page = client.get(reverse("admin:scheduling_schedule_change", args=[schedule.pk]))
    post_page = client.get(reverse("admin:posts_post_change", args=[schedule.post.pk]))

    assert url(schedule) in schedule_page.content.decode()
    assert url(schedule) in post_page.content.decode()


@time_machine.travel(NOW, tick=False)
def test_another_workspaces_schedule_is_not_found(client):
    signed_in(client, Membership.Role.OWNER)
    theirs = daily(MembershipFactory().workspace)

    assert client.get(url(theirs)).status_code == 404
    assert client.post(url(theirs), {"occurrence": DAY_3.isoformat()}).status_code == 404
    assert not OccurrenceChange.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_one_off_post_has_no_occurrence_page(client):
    member = signed_in(client, Membership.Role.EDITOR)
    account = SandboxAccountFactory(workspace=member.workspace)
    post = PostFactory(workspace=member.workspace, accounts=[account])
    once = schedule_set(
        post=post,
        kind=Schedule.Kind.ONCE,
        local_date=date(2026, 6, 2),
        local_time=time(9, 0),
        timezone_name=ZONE,
        actor=None,
    )

    assert client.get(url(once)).status_code == 404
