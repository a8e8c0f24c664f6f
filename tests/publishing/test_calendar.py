"""The calendar's feed and moves (publishing/calendar.py, publishing/views.py)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership, SocialAccount
from posts.models import Tag
from publishing.calendar import MAX_PER_SCHEDULE
from publishing.models import JobStatus, RateLimitWindow
from publishing.networks.base import APP_KEY, account_key
from publishing.plans import schedule_set
from scheduling.models import OccurrenceChange, Schedule
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
)
from tests.scheduling.factories import CampaignFactory, PostingLimitFactory

pytestmark = pytest.mark.django_db

# Friday 20 March 2026, 10:00 UTC: Europe/Paris goes to summer time on Sunday 29 March.
NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
PARIS = "Europe/Paris"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def member(client):
    membership = MembershipFactory(role=Membership.Role.EDITOR, workspace__default_timezone=PARIS)
    client.force_login(membership.user)
    return membership


@pytest.fixture
def account(member):
    return SandboxAccountFactory(workspace=member.workspace, handle="acme")


def _post(account, *, text="Hello", at=None, zone=PARIS, kind=Schedule.Kind.ONCE, **rule):
    post = PostFactory(workspace=account.workspace, accounts=[account], texts=[text])
    if at is not None:
        schedule_set(
            post=post,
            kind=kind,
            local_date=at.date(),
            local_time=at.time(),
            timezone_name=zone,
            actor=None,
            now=NOW,
            **rule,
        )
    return post


def _daily(account, *, at: datetime):
    """A post to `account` every day at the wall time of `at` in Paris, from `at` on."""
    return _post(account, at=at, kind=Schedule.Kind.INTERVAL, every=1, unit=Schedule.Unit.DAYS)


def _feed(client, start="2026-03-16T00:00:00", end="2026-04-06T00:00:00", **params):
    response = client.get(reverse("calendar-feed"), {"start": start, "end": end, **params})
    assert response.status_code == 200, response.content
    return response.json()


def _move(client, post, *, occurrence: str, start: str, zone=PARIS):
    return client.post(
        reverse("calendar-move"),
        {"post": post.pk, "occurrence": occurrence, "start": start, "zone": zone},
    )


def _entries(body) -> list[dict]:
    return [event for event in body["events"] if not event["extendedProps"].get("limit")]


def _marks(body) -> list[str]:
    return [event["title"] for event in body["events"] if event["extendedProps"].get("limit")]


# --- Expansion and zones -------------------------------------------------------------


def test_a_daily_post_keeps_its_wall_time_across_the_change_to_summer_time(client, account):
    _daily(account, at=datetime(2026, 3, 27, 9, 0))

    paris = _entries(
        _feed(client, start="2026-03-27T00:00:00", end="2026-04-01T00:00:00", zone=PARIS)
    )
    utc = _entries(
        _feed(client, start="2026-03-27T00:00:00", end="2026-04-01T00:00:00", zone="UTC")
    )

    assert [event["start"] for event in paris] == [
        f"2026-03-{day}T09:00:00" for day in (27, 28, 29, 30, 31)
    ]
    # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC from Sunday 29 March.
    assert [event["start"] for event in utc] == [
        "2026-03-27T08:00:00",
        "2026-03-28T08:00:00",
        "2026-03-29T07:00:00",
        "2026-03-30T07:00:00",
        "2026-03-31T07:00:00",
    ]
    assert {event["extendedProps"]["status"] for event in utc} == {"scheduled"}
    assert utc[2]["extendedProps"]["own_time"] == "2026-03-29 09:00 Europe/Paris"
    assert all(event["extendedProps"]["recurring"] for event in utc)


def test_made_jobs_show_with_their_status_and_planned_ones_start_after_them(client, account):
    post = _daily(account, at=datetime(2026, 3, 18, 9, 0))
    # The tick made the jobs of the 18th to the 20th, and the next occurrence is the 21st.
    for day, status in ((18, JobStatus.PUBLISHED), (19, JobStatus.FAILED)):
        PublishJobFactory(
            post=post,
            account=account,
            occurrence_at=datetime(2026, 3, day, 8, tzinfo=UTC),
            status=status,
        )
    PublishJobFactory(
        post=post,
        account=account,
        occurrence_at=datetime(2026, 3, 20, 8, tzinfo=UTC),
        status=JobStatus.CANCELLED,
    )
    Schedule.objects.filter(post=post).update(
        next_occurrence_at=datetime(2026, 3, 21, 8, tzinfo=UTC)
    )

    events = _entries(
        _feed(client, start="2026-03-18T00:00:00", end="2026-03-23T00:00:00", zone="UTC")
    )

    assert [(event["start"], event["extendedProps"]["status"]) for event in events] == [
        ("2026-03-18T08:00:00", "published"),
        ("2026-03-19T08:00:00", "failed"),
        ("2026-03-21T08:00:00", "scheduled"),
        ("2026-03-22T08:00:00", "scheduled"),
    ]
    assert events[0]["url"] == reverse("admin:posts_post_change", args=[post.pk])
    assert events[0]["title"] == "@acme · Hello"


def test_a_moved_occurrence_shows_at_its_new_time_and_a_skipped_one_not_at_all(client, account):
    post = _daily(account, at=datetime(2026, 3, 23, 9, 0))
    schedule = post.schedule
    OccurrenceChange.objects.create(
        schedule=schedule, original_at=datetime(2026, 3, 24, 8, tzinfo=UTC), moved_to=None
    )
    OccurrenceChange.objects.create(
        schedule=schedule,
        original_at=datetime(2026, 3, 25, 8, tzinfo=UTC),
        moved_to=datetime(2026, 3, 25, 15, tzinfo=UTC),
    )

    events = _entries(
        _feed(client, start="2026-03-23T00:00:00", end="2026-03-26T00:00:00", zone="UTC")
    )

    assert [(event["start"], event["extendedProps"]["occurrence"]) for event in events] == [
        ("2026-03-23T08:00:00", "2026-03-23T08:00:00+00:00"),
        ("2026-03-25T15:00:00", "2026-03-25T08:00:00+00:00"),
    ]


def test_a_schedule_too_dense_to_show_is_cut_and_named(client, account):
    post = _post(
        account,
        at=datetime(2026, 3, 23, 0, 0),
        zone="UTC",
        kind=Schedule.Kind.INTERVAL,
        every=1,
        unit=Schedule.Unit.MINUTES,
    )

    body = _feed(client, start="2026-03-23T00:00:00", end="2026-03-24T00:00:00", zone="UTC")

    assert len(_entries(body)) == MAX_PER_SCHEDULE
    assert body["truncated"] == [post.pk]


# --- Filters and scoping -------------------------------------------------------------


def test_filters_by_account_network_tag_campaign_and_status(client, member, account):
    other = SandboxAccountFactory(workspace=member.workspace, handle="other")
    tagged = _post(account, text="Tagged", at=datetime(2026, 3, 23, 9))
    tag = Tag.objects.create(workspace=member.workspace, name="launch")
    tagged.tags.add(tag)
    in_campaign = _post(other, text="Campaign", at=datetime(2026, 3, 24, 9))
    campaign = CampaignFactory(workspace=member.workspace)
    in_campaign.campaign = campaign
    in_campaign.save()
    PublishJobFactory(
        post=PostFactory(workspace=member.workspace, texts=["Done"]),
        account=other,
        occurrence_at=datetime(2026, 3, 19, 9, tzinfo=UTC),
        status=JobStatus.PUBLISHED,
    )

    def titles(**params):
        return sorted(event["title"] for event in _entries(_feed(client, **params)))

    assert titles() == ["@acme · Tagged", "@other · Campaign", "@other · Done"]
    assert titles(account=[account.pk]) == ["@acme · Tagged"]
    assert titles(tag=[tag.pk]) == ["@acme · Tagged"]
    assert titles(campaign=[campaign.pk]) == ["@other · Campaign"]
    assert titles(status=["published"]) == ["@other · Done"]
    assert titles(status=["scheduled", "failed"]) == ["@acme · Tagged", "@other · Campaign"]
    assert titles(network=["x"]) == []
    assert titles(network=["sandbox"]) == titles()


def test_another_workspaces_posts_are_neither_shown_nor_moved(client, account):
    stranger = SandboxAccountFactory(handle="stranger")
    theirs = _post(stranger, text="Not yours", at=datetime(2026, 3, 23, 9))
    _post(account, text="Yours", at=datetime(2026, 3, 23, 10))

    assert [event["title"] for event in _entries(_feed(client))] == ["@acme · Yours"]
    # Their account is not even a choice of the filter.
    assert client.get(reverse("calendar-feed"), {"account": [stranger.pk]}).status_code == 400
    moved = _move(
        client, theirs, occurrence="2026-03-23T08:00:00+00:00", start="2026-03-24T09:00:00"
    )
    assert moved.status_code == 404


def test_a_viewer_sees_posts_not_draggable_and_may_not_move_them(client, account):
    post = _post(account, at=datetime(2026, 3, 23, 9))
    viewer = MembershipFactory(workspace=account.workspace, role=Membership.Role.VIEWER)
    client.force_login(viewer.user)

    [event] = _entries(_feed(client))
    assert event["editable"] is False
    moved = _move(client, post, occurrence="2026-03-23T08:00:00+00:00", start="2026-03-24T09:00:00")
    assert moved.status_code == 403


def test_a_move_names_the_occurrence_with_its_offset(client, account):
    post = _post(account, at=datetime(2026, 3, 23, 9))

    response = _move(client, post, occurrence="2026-03-23T08:00:00", start="2026-03-24T09:00:00")

    assert response.status_code == 400
    assert Schedule.objects.get(post=post).local_date == date(2026, 3, 23)


def test_the_range_is_bounded(client, account):
    response = client.get(
        reverse("calendar-feed"), {"start": "2026-01-01T00:00:00", "end": "2026-03-01T00:00:00"}
    )
    assert response.status_code == 400
    assert "at most 42 days" in response.json()["error"]
    assert client.get(reverse("calendar-feed"), {"start": "soon"}).status_code == 400


def test_the_query_count_does_not_grow_with_the_posts(client, member, account):
    def queries_for_feed() -> int:
        with CaptureQueriesContext(connection) as captured:
            _feed(client)
        return len(captured)

    _post(account, at=datetime(2026, 3, 23, 9))
    few = queries_for_feed()
    for day in range(24, 31):
        post = _daily(
            SandboxAccountFactory(workspace=member.workspace), at=datetime(2026, 3, day, 9)
        )
        post.tags.add(Tag.objects.create(workspace=member.workspace, name=f"t{day}"))
        PublishJobFactory(
            post=post,
            account=post.targets.get().account,
            occurrence_at=datetime(2026, 3, 19, 9, tzinfo=UTC),
            status=JobStatus.PUBLISHED,
        )
    PostingLimitFactory(account=account, max_per_day=1)
    many = queries_for_feed()

    assert many == few
    assert few <= 20


# --- Limits --------------------------------------------------------------------------


def test_a_day_over_an_accounts_daily_limit_is_marked_with_the_count(client, account):
    for hour in (9, 12, 15):
        _post(account, text=f"At {hour}", at=datetime(2026, 3, 24, hour))
    _post(account, text="Next day", at=datetime(2026, 3, 25, 9))
    # Limits set after the plan was drawn: the plan no longer fits.
    PostingLimitFactory(account=account, max_per_day=2)

    body = _feed(client)

    [mark] = [event for event in body["events"] if event["extendedProps"].get("limit")]
    assert mark["title"] == "3/2 @acme"
    assert mark["start"] == "2026-03-24"
    assert mark["allDay"] is True
    assert "limit is 2 within any 24 hours" in mark["extendedProps"]["reason"]


def test_days_are_counted_in_the_viewers_zone(client, account):
    # 23:30, 00:30 and 01:30 UTC: three on one Paris day (the 24th), split in UTC.
    for hour, minute in ((0, 30), (1, 30), (2, 30)):
        _post(account, at=datetime(2026, 3, 24, hour, minute))
    # Limits set after the plan was drawn: the plan no longer fits.
    PostingLimitFactory(account=account, max_per_day=2)

    assert _marks(_feed(client, zone=PARIS)) == ["3/2 @acme"]
    assert _marks(_feed(client, zone="UTC")) == []


def test_an_hourly_limit_marks_the_day_with_the_busiest_hour(client, account):
    for minute in (0, 20, 40):
        _post(account, at=datetime(2026, 3, 24, 9, minute))
    _post(account, at=datetime(2026, 3, 25, 9, 0))
    _post(account, at=datetime(2026, 3, 25, 10, 0))
    # Limits set after the plan was drawn: the plan no longer fits.
    PostingLimitFactory(account=account, max_per_hour=2)

    assert _marks(_feed(client)) == ["3/2 an hour @acme"]


def test_posts_closer_than_the_spacing_mark_the_day(client, account):
    _post(account, at=datetime(2026, 3, 24, 9, 0))
    _post(account, at=datetime(2026, 3, 24, 9, 10))
    _post(account, at=datetime(2026, 3, 25, 9, 0))
    _post(account, at=datetime(2026, 3, 25, 9, 15))
    # Limits set after the plan was drawn: the plan no longer fits.
    PostingLimitFactory(account=account, min_spacing=timedelta(minutes=15))

    body = _feed(client)

    assert _marks(body) == ["< 15 minutes apart @acme"]
    [mark] = [event for event in body["events"] if event["extendedProps"].get("limit")]
    assert mark["start"] == "2026-03-24"


def test_filters_do_not_hide_what_counts_against_a_limit(client, account):
    _post(account, at=datetime(2026, 3, 24, 9))
    _post(account, at=datetime(2026, 3, 24, 10))
    # Limits set after the plan was drawn: the plan no longer fits.
    PostingLimitFactory(account=account, max_per_day=1)

    assert _marks(_feed(client, status=["published"])) == ["2/1 @acme"]


def test_xs_24_hour_caps_as_last_reported_mark_the_day(client, member):
    brand = SandboxAccountFactory(
        workspace=member.workspace, network=SocialAccount.Network.X, handle="brand"
    )
    other = SandboxAccountFactory(
        workspace=member.workspace, network=SocialAccount.Network.X, handle="other"
    )
    resets = datetime(2026, 3, 21, tzinfo=UTC)
    for key, limit in ((account_key(brand.pk), 2), (APP_KEY, 3)):
        RateLimitWindow.objects.create(
            network="x",
            key=key,
            endpoint="tweets",
            window="24h",
            limit=limit,
            remaining=limit,
            resets_at=resets,
            updated_at=NOW,
        )
    for hour in (9, 10, 11):
        PublishJobFactory(
            post=PostFactory(workspace=member.workspace),
            account=brand,
            occurrence_at=datetime(2026, 3, 23, hour, tzinfo=UTC),
            status=JobStatus.PENDING,
        )
    PublishJobFactory(
        post=PostFactory(workspace=member.workspace),
        account=other,
        occurrence_at=datetime(2026, 3, 23, 12, tzinfo=UTC),
        status=JobStatus.PENDING,
    )

    assert _marks(_feed(client)) == ["3/2 @brand (X per user)", "4/3 X app"]


# --- Moves ---------------------------------------------------------------------------


def test_a_one_off_post_dragged_a_day_later_is_scheduled_there_in_its_own_zone(client, account):
    post = _post(account, at=datetime(2026, 3, 23, 9), zone="America/New_York")

    # Dragged in a calendar shown in Paris: 14:00 there (summer in New York, not yet
    # in Paris) is 09:00 in New York on the 24th.
    response = _move(
        client, post, occurrence="2026-03-23T13:00:00+00:00", start="2026-03-24T14:00:00"
    )

    assert response.status_code == 200, response.content
    assert (
        response.json()["message"] == f"Post #{post.pk} moved to 2026-03-24 09:00 America/New_York."
    )
    schedule = Schedule.objects.get(post=post)
    assert (schedule.local_date, schedule.local_time) == (date(2026, 3, 24), time(9, 0))
    assert schedule.timezone == "America/New_York"
    assert schedule.next_occurrence_at == datetime(2026, 3, 24, 13, tzinfo=UTC)


def test_a_dragged_recurring_occurrence_moves_alone(client, account):
    post = _daily(account, at=datetime(2026, 3, 23, 9, 0))

    response = _move(
        client, post, occurrence="2026-03-24T08:00:00+00:00", start="2026-03-24T17:30:00"
    )

    assert response.status_code == 200, response.content
    events = _entries(
        _feed(client, start="2026-03-23T00:00:00", end="2026-03-26T00:00:00", zone=PARIS)
    )
    assert [event["start"] for event in events] == [
        "2026-03-23T09:00:00",
        "2026-03-24T17:30:00",
        "2026-03-25T09:00:00",
    ]


def test_a_running_post_is_not_moved_and_says_why(client, account):
    post = _post(account, at=datetime(2026, 3, 20, 11, 30))
    PublishJobFactory(
        post=post,
        account=account,
        occurrence_at=datetime(2026, 3, 20, 10, 30, tzinfo=UTC),
        status=JobStatus.RUNNING,
    )

    response = _move(
        client, post, occurrence="2026-03-20T10:30:00+00:00", start="2026-03-21T11:30:00"
    )

    assert response.status_code == 400
    assert response.json()["error"] == (
        "It is being published to @acme (Sandbox) right now; wait for its outcome."
    )
    assert Schedule.objects.get(post=post).local_date == date(2026, 3, 20)


def test_a_published_occurrence_is_not_moved(client, account):
    post = _post(account, at=datetime(2026, 3, 23, 9))
    PublishJobFactory(
        post=post,
        account=account,
        occurrence_at=datetime(2026, 3, 19, 9, tzinfo=UTC),
        status=JobStatus.PUBLISHED,
    )

    response = _move(
        client, post, occurrence="2026-03-19T09:00:00+00:00", start="2026-03-25T10:00:00"
    )

    assert response.status_code == 400
    assert "already published" in response.json()["error"]


def test_a_move_that_breaks_a_limit_is_refused_with_the_limit(client, account):
    PostingLimitFactory(account=account, max_per_day=1)
    _post(account, at=datetime(2026, 3, 24, 9))
    post = _post(account, at=datetime(2026, 3, 26, 9))

    response = _move(
        client, post, occurrence="2026-03-26T08:00:00+00:00", start="2026-03-24T12:00:00"
    )

    assert response.status_code == 400
    assert "at most once within any 24 hours" in response.json()["error"]


def test_the_page_offers_the_zone_and_the_filters(client, member, account):
    page = client.get(reverse("calendar"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-zone="Europe/Paris"' in html
    assert "publishing/vendor/fullcalendar/index.global.min.js" in html
    assert "@acme (Sandbox)" in html
    assert reverse("calendar") in client.get(reverse("admin:index")).content.decode()
