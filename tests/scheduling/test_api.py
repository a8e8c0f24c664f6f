from datetime import UTC, date, datetime, time

import pytest
import time_machine

from publishing.plans import schedule_set
from scheduling.models import Schedule
from tests.factories import MembershipFactory, PostFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 13, 12, 0, tzinfo=UTC)


@pytest.fixture
def member(client):
    membership = MembershipFactory(workspace__default_timezone="Europe/London")
    client.force_login(membership.user)
    return membership


def weekly_post(workspace):
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account])
    schedule_set(
        post=post,
        kind=Schedule.Kind.CRON,
        cron="30 9 * * MON",
        local_date=date(2026, 10, 12),
        local_time=time(9, 30),
        timezone_name="Europe/London",
        actor=None,
    )
    return post


@time_machine.travel(NOW, tick=False)
def test_a_schedule_shows_its_rule_zone_and_next_occurrences_across_dst(client, member):
    post = weekly_post(member.workspace)
    body = client.get(f"/api/v1/schedules/{post.schedule.pk}/").json()
    assert body["kind"] == "cron"
    assert body["description"] == "At 09:30, only on Monday (Europe/London)"
    assert body["timezone"] == "Europe/London"
    # London leaves summer time on 25 October 2026: 09:30 BST, then 09:30 GMT.
    assert body["next_occurrences"][:3] == [
        {"local": "2026-10-19T09:30:00+01:00", "utc": "2026-10-19T08:30:00Z"},
        {"local": "2026-10-26T09:30:00+00:00", "utc": "2026-10-26T09:30:00Z"},
        {"local": "2026-11-02T09:30:00+00:00", "utc": "2026-11-02T09:30:00Z"},
    ]
    assert len(body["next_occurrences"]) == 5
    assert body["next_occurrence_at"] == "2026-10-19T08:30:00Z"


@time_machine.travel(NOW, tick=False)
def test_schedules_of_other_workspaces_are_not_listed(client, member):
    mine = weekly_post(member.workspace)
    weekly_post(MembershipFactory().workspace)
    listed = client.get("/api/v1/schedules/").json()["results"]
    assert [item["id"] for item in listed] == [mine.schedule.pk]


def test_the_api_needs_a_key_or_a_signed_in_user(client):
    answer = client.get("/api/v1/schedules/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Api-Key"


def test_the_openapi_schema_builds(client, member):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/schedules/" in response.content
