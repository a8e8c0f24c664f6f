"""The recurrence engine around real DST transitions, with every instant written out.

Expected instants are UTC; the comment beside each gives the local reading. Daily
cases run for the three kinds that express "every day at HH:MM" (interval in days,
cron, RRULE) and must agree exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from scheduling.recurrence import (
    CronRule,
    IntervalRule,
    OnceRule,
    RRuleRule,
    Rule,
    occurrence_next,
    occurrences_between,
    occurrences_next,
    rule_describe,
    rule_from_fields,
)
from scheduling.recurrence.cron import cron_walls

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
APIA = ZoneInfo("Pacific/Apia")

# Every daily rule starts a year or more before the days asked about, so each answer
# also goes through seeking near the window rather than expanding from the start.
YEARS_BEFORE = timedelta(days=400)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def daily_interval(at: datetime) -> Rule:
    return IntervalRule(start=at - YEARS_BEFORE, every=1, unit="days")


def daily_cron(at: datetime) -> Rule:
    return CronRule(expression=f"{at.minute} {at.hour} * * *", start=at - YEARS_BEFORE)


def daily_rrule(at: datetime) -> Rule:
    return RRuleRule(rule="FREQ=DAILY", start=at - YEARS_BEFORE)


DAILY_KINDS = pytest.mark.parametrize(
    "daily", [daily_interval, daily_cron, daily_rrule], ids=["interval", "cron", "rrule"]
)


def on_days(
    daily: Callable[[datetime], Rule], at: datetime, zone: ZoneInfo, days: int
) -> list[datetime]:
    """The occurrences of "every day at `at`'s time" over `days` local days from `at`'s day."""
    first_day = at.replace(hour=0, minute=0, tzinfo=zone).astimezone(UTC)
    last_day = (at + timedelta(days=days)).replace(hour=0, minute=0, tzinfo=zone).astimezone(UTC)
    return occurrences_between(rule=daily(at), zone=zone, start_utc=first_day, end_utc=last_day)


@DAILY_KINDS
def test_new_york_daily_0900_stays_0900_across_both_changes(daily):
    assert on_days(daily, datetime(2025, 3, 8, 9, 0), NEW_YORK, days=3) == [
        utc(2025, 3, 8, 14, 0),  # 09:00 EST
        utc(2025, 3, 9, 13, 0),  # 09:00 EDT, the day the clocks go forward
        utc(2025, 3, 10, 13, 0),  # 09:00 EDT
    ]
    assert on_days(daily, datetime(2025, 11, 1, 9, 0), NEW_YORK, days=3) == [
        utc(2025, 11, 1, 13, 0),  # 09:00 EDT
        utc(2025, 11, 2, 14, 0),  # 09:00 EST, the day the clocks go back
        utc(2025, 11, 3, 14, 0),  # 09:00 EST
    ]


@DAILY_KINDS
def test_new_york_daily_0230_in_the_spring_gap_moves_to_0330(daily):
    assert on_days(daily, datetime(2025, 3, 8, 2, 30), NEW_YORK, days=3) == [
        utc(2025, 3, 8, 7, 30),  # 02:30 EST
        utc(2025, 3, 9, 7, 30),  # 02:30 does not exist: 03:30 EDT, forward by the hour gap
        utc(2025, 3, 10, 6, 30),  # 02:30 EDT
    ]


@DAILY_KINDS
def test_new_york_daily_0130_on_fall_back_fires_once_at_the_first_instant(daily):
    assert on_days(daily, datetime(2025, 11, 1, 1, 30), NEW_YORK, days=3) == [
        utc(2025, 11, 1, 5, 30),  # 01:30 EDT
        utc(2025, 11, 2, 5, 30),  # 01:30 EDT, the first of the two; not 06:30 (01:30 EST)
        utc(2025, 11, 3, 6, 30),  # 01:30 EST
    ]


def test_new_york_cron_0130_fires_once_on_the_fall_back_day():
    local_day = (
        datetime(2025, 11, 2, tzinfo=NEW_YORK).astimezone(UTC),
        datetime(2025, 11, 3, tzinfo=NEW_YORK).astimezone(UTC),
    )
    rule = CronRule(expression="30 1 * * *", start=datetime(2025, 1, 1))

    fired = occurrences_between(
        rule=rule, zone=NEW_YORK, start_utc=local_day[0], end_utc=local_day[1]
    )

    assert fired == [utc(2025, 11, 2, 5, 30)]  # 01:30 EDT


def test_new_york_cron_every_half_hour_on_spring_day_collapses_the_gap():
    rule = CronRule(expression="*/30 * * * *", start=datetime(2025, 1, 1))

    fired = occurrences_between(
        rule=rule, zone=NEW_YORK, start_utc=utc(2025, 3, 9, 6, 0), end_utc=utc(2025, 3, 9, 8, 1)
    )

    # 02:00 and 02:30 move forward onto 03:00 and 03:30, which are then one occurrence each.
    assert fired == [
        utc(2025, 3, 9, 6, 0),  # 01:00 EST
        utc(2025, 3, 9, 6, 30),  # 01:30 EST
        utc(2025, 3, 9, 7, 0),  # 03:00 EDT (also 02:00, moved forward)
        utc(2025, 3, 9, 7, 30),  # 03:30 EDT (also 02:30, moved forward)
        utc(2025, 3, 9, 8, 0),  # 04:00 EDT
    ]


def test_new_york_cron_every_half_hour_on_fall_back_day_never_repeats_a_wall_time():
    rule = CronRule(expression="*/30 * * * *", start=datetime(2025, 1, 1))

    fired = occurrences_between(
        rule=rule, zone=NEW_YORK, start_utc=utc(2025, 11, 2, 4, 0), end_utc=utc(2025, 11, 2, 7, 1)
    )

    # The repeated 01:00 and 01:30 (EST) were already used in their first (EDT) pass.
    assert fired == [
        utc(2025, 11, 2, 4, 0),  # 00:00 EDT
        utc(2025, 11, 2, 4, 30),  # 00:30 EDT
        utc(2025, 11, 2, 5, 0),  # 01:00 EDT
        utc(2025, 11, 2, 5, 30),  # 01:30 EDT
        utc(2025, 11, 2, 7, 0),  # 02:00 EST
    ]


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        pytest.param(
            NEW_YORK,
            datetime(2025, 3, 9, 0, 0),
            # 00:00 EST, 01:00 EST, 03:00 EDT, 04:00 EDT
            [utc(2025, 3, 9, 5), utc(2025, 3, 9, 6), utc(2025, 3, 9, 7), utc(2025, 3, 9, 8)],
            id="new-york-spring",
        ),
        pytest.param(
            NEW_YORK,
            datetime(2025, 11, 2, 0, 0),
            # 00:00 EDT, 01:00 EDT, 01:00 EST, 02:00 EST
            [utc(2025, 11, 2, 4), utc(2025, 11, 2, 5), utc(2025, 11, 2, 6), utc(2025, 11, 2, 7)],
            id="new-york-fall",
        ),
        pytest.param(
            LONDON,
            datetime(2025, 3, 30, 0, 0),
            # 00:00 GMT, 02:00 BST, 03:00 BST, 04:00 BST
            [utc(2025, 3, 30, 0), utc(2025, 3, 30, 1), utc(2025, 3, 30, 2), utc(2025, 3, 30, 3)],
            id="london-spring",
        ),
        pytest.param(
            LORD_HOWE,
            datetime(2025, 4, 6, 0, 0),
            # 00:00 +11, 01:00 +11, 01:30 +10:30, 02:30 +10:30
            [utc(2025, 4, 5, 13), utc(2025, 4, 5, 14), utc(2025, 4, 5, 15), utc(2025, 4, 5, 16)],
            id="lord-howe-fall",
        ),
    ],
)
def test_hourly_interval_is_sixty_real_minutes_apart_across_dst(zone, start, expected):
    rule = IntervalRule(start=start, every=1, unit="hours")

    assert occurrences_next(rule=rule, zone=zone, after_utc=utc(2025, 1, 1), count=4) == expected


def test_ninety_minute_interval_counts_real_minutes_across_the_spring_gap():
    rule = IntervalRule(start=datetime(2025, 3, 9, 0, 0), every=90, unit="minutes")

    assert occurrences_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 1, 1), count=3) == [
        utc(2025, 3, 9, 5, 0),  # 00:00 EST
        utc(2025, 3, 9, 6, 30),  # 01:30 EST
        utc(2025, 3, 9, 8, 0),  # 04:00 EDT: 90 real minutes later, though 150 on the clock
    ]


def test_hourly_interval_starting_in_a_gap_starts_forward_by_the_gap():
    rule = IntervalRule(start=datetime(2025, 3, 9, 2, 30), every=1, unit="hours")

    assert occurrences_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 1, 1), count=2) == [
        utc(2025, 3, 9, 7, 30),  # 03:30 EDT
        utc(2025, 3, 9, 8, 30),  # 04:30 EDT
    ]


@DAILY_KINDS
def test_london_daily_times_across_both_changes(daily):
    assert on_days(daily, datetime(2025, 3, 29, 9, 0), LONDON, days=3) == [
        utc(2025, 3, 29, 9, 0),  # 09:00 GMT
        utc(2025, 3, 30, 8, 0),  # 09:00 BST
        utc(2025, 3, 31, 8, 0),  # 09:00 BST
    ]
    assert on_days(daily, datetime(2025, 3, 29, 1, 30), LONDON, days=3) == [
        utc(2025, 3, 29, 1, 30),  # 01:30 GMT
        utc(2025, 3, 30, 1, 30),  # 01:30 does not exist: 02:30 BST
        utc(2025, 3, 31, 0, 30),  # 01:30 BST
    ]
    assert on_days(daily, datetime(2025, 10, 25, 1, 30), LONDON, days=3) == [
        utc(2025, 10, 25, 0, 30),  # 01:30 BST
        utc(2025, 10, 26, 0, 30),  # 01:30 BST, the first of the two
        utc(2025, 10, 27, 1, 30),  # 01:30 GMT
    ]


@DAILY_KINDS
def test_lord_howe_half_hour_shifts(daily):
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 5 October 2025,
    # 02:00 -> 01:30 on 6 April 2025.
    assert on_days(daily, datetime(2025, 10, 4, 2, 15), LORD_HOWE, days=3) == [
        utc(2025, 10, 3, 15, 45),  # 02:15 +10:30
        utc(2025, 10, 4, 15, 45),  # 02:15 does not exist: 02:45 +11, forward by the half hour
        utc(2025, 10, 5, 15, 15),  # 02:15 +11
    ]
    assert on_days(daily, datetime(2025, 4, 5, 1, 45), LORD_HOWE, days=3) == [
        utc(2025, 4, 4, 14, 45),  # 01:45 +11
        utc(2025, 4, 5, 14, 45),  # 01:45 +11, the first of the two
        utc(2025, 4, 6, 15, 15),  # 01:45 +10:30
    ]


@DAILY_KINDS
def test_kolkata_has_no_dst(daily):
    # 09:00 IST is 03:30 UTC on every day, including the days other zones change.
    for day in (datetime(2025, 3, 9, 9, 0), datetime(2025, 10, 26, 9, 0)):
        assert on_days(daily, day, KOLKATA, days=2) == [
            datetime.combine(day.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=3.5),
            datetime.combine(day.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=27.5),
        ]


@DAILY_KINDS
def test_sao_paulo_shifted_in_2018_and_no_longer_does(daily):
    # In 2018 Brazil's DST began at midnight: 4 November 00:00 -> 01:00.
    assert on_days(daily, datetime(2018, 11, 3, 0, 30), SAO_PAULO, days=3) == [
        utc(2018, 11, 3, 3, 30),  # 00:30 -03
        utc(2018, 11, 4, 3, 30),  # 00:30 does not exist: 01:30 -02
        utc(2018, 11, 5, 2, 30),  # 00:30 -02
    ]
    # ... and ended at midnight: 18 February 00:00 -> 17 February 23:00.
    assert on_days(daily, datetime(2018, 2, 16, 23, 30), SAO_PAULO, days=3) == [
        utc(2018, 2, 17, 1, 30),  # 23:30 -02
        utc(2018, 2, 18, 1, 30),  # 23:30 -02, the first of the two
        utc(2018, 2, 19, 2, 30),  # 23:30 -03
    ]
    # DST was abolished in 2019: the same days of 2020 are plain -03.
    assert on_days(daily, datetime(2020, 11, 3, 0, 30), SAO_PAULO, days=3) == [
        utc(2020, 11, 3, 3, 30),
        utc(2020, 11, 4, 3, 30),
        utc(2020, 11, 5, 3, 30),
    ]


@DAILY_KINDS
def test_apia_daily_post_across_the_day_that_never_happened(daily):
    # Samoa crossed the date line after 29 December 2011: 23:59:59 (-10) was followed
    # by 31 December 00:00 (+14). The wall time 30 December 09:00 lies in that 24-hour
    # gap, so by the gap rule it moves forward 24 hours, onto 31 December 09:00, which
    # is also the 31st's own post: one occurrence. The day after the 29th's post comes
    # the 31st's, exactly 24 real hours later, as on every other day. What vanished is
    # a date on the calendar, not an instant, so no post is lost.
    assert on_days(daily, datetime(2011, 12, 28, 9, 0), APIA, days=5) == [
        utc(2011, 12, 28, 19, 0),  # 28 Dec 09:00 -10
        utc(2011, 12, 29, 19, 0),  # 29 Dec 09:00 -10
        utc(2011, 12, 30, 19, 0),  # 31 Dec 09:00 +14 (and the missing 30th, moved onto it)
        utc(2011, 12, 31, 19, 0),  # 1 Jan 09:00 +14
    ]


def test_next_after_a_time_in_a_just_ended_gap_is_the_moved_wall_time():
    rule = CronRule(expression="30 2 * * *", start=datetime(2025, 1, 1))

    # 03:10 EDT on 9 March: the clock reads past 02:30, but 02:30 moved to 03:30.
    assert occurrence_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 3, 9, 7, 10)) == utc(
        2025, 3, 9, 7, 30
    )
    assert occurrence_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 3, 9, 7, 30)) == utc(
        2025, 3, 10, 6, 30
    )


def test_next_is_strictly_after():
    rule = IntervalRule(start=datetime(2025, 1, 1, 9, 0), every=1, unit="days")

    # 9 January 09:00 GMT itself is not "after" it.
    assert occurrence_next(rule=rule, zone=LONDON, after_utc=utc(2025, 1, 9, 9, 0)) == utc(
        2025, 1, 10, 9, 0
    )


def test_between_includes_its_start_and_excludes_its_end():
    rule = IntervalRule(start=datetime(2025, 1, 1, 9, 0), every=1, unit="days")

    fired = occurrences_between(
        rule=rule, zone=LONDON, start_utc=utc(2025, 1, 9, 9, 0), end_utc=utc(2025, 1, 11, 9, 0)
    )

    assert fired == [utc(2025, 1, 9, 9, 0), utc(2025, 1, 10, 9, 0)]


def test_answers_are_utc_and_accept_any_aware_instant():
    rule = OnceRule(start=datetime(2025, 3, 9, 2, 30))
    after = datetime(2025, 3, 1, tzinfo=ZoneInfo("Asia/Tokyo"))

    instant = occurrence_next(rule=rule, zone=NEW_YORK, after_utc=after)

    assert instant == utc(2025, 3, 9, 7, 30)  # 03:30 EDT: a single time in the gap moves too
    assert instant.tzinfo is UTC


def test_naive_instants_are_refused():
    rule = OnceRule(start=datetime(2025, 3, 9, 9, 0))

    with pytest.raises(ValueError, match="aware"):
        occurrence_next(rule=rule, zone=NEW_YORK, after_utc=datetime(2025, 3, 1))


def test_once_rule_is_spent_after_its_time():
    rule = OnceRule(start=datetime(2025, 3, 9, 9, 0))

    assert occurrence_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 3, 9, 13, 0)) is None
    assert occurrences_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 3, 1), count=5) == [
        utc(2025, 3, 9, 13, 0)
    ]


def test_weekly_interval_keeps_its_weekday_and_phase_years_later():
    # Every 2 weeks from Monday 6 January 2025 at 09:00 Paris time.
    rule = IntervalRule(start=datetime(2025, 1, 6, 9, 0), every=2, unit="weeks")
    paris = ZoneInfo("Europe/Paris")

    fired = occurrences_next(rule=rule, zone=paris, after_utc=utc(2035, 3, 20), count=3)

    assert fired == [
        utc(2035, 4, 2, 7, 0),  # Mon 2 Apr 2035 09:00 CEST, week 534 after the start
        utc(2035, 4, 16, 7, 0),
        utc(2035, 4, 30, 7, 0),
    ]


def test_cron_respects_its_start():
    rule = CronRule(expression="0 9 * * *", start=datetime(2025, 6, 1, 9, 30))

    assert occurrence_next(rule=rule, zone=LONDON, after_utc=utc(2025, 1, 1)) == utc(
        2025, 6, 2, 8, 0
    )


def test_rrule_excludes_exdates_by_local_wall_time():
    rule = RRuleRule(
        rule="FREQ=DAILY",
        start=datetime(2025, 3, 8, 2, 30),
        exdates=(datetime(2025, 3, 9, 2, 30),),
    )

    fired = occurrences_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 3, 1), count=2)

    assert fired == [utc(2025, 3, 8, 7, 30), utc(2025, 3, 10, 6, 30)]


def test_rrule_until_in_utc_and_in_local_time():
    start = datetime(2025, 7, 1, 9, 0)
    in_utc = RRuleRule(rule="FREQ=DAILY;UNTIL=20250703T080000Z", start=start)
    local = RRuleRule(rule="FREQ=DAILY;UNTIL=20250703T090000", start=start)

    # 3 July 09:00 BST is 08:00 UTC: both rules include it, and stop there.
    for rule in (in_utc, local):
        assert occurrences_next(rule=rule, zone=LONDON, after_utc=utc(2025, 1, 1), count=5) == [
            utc(2025, 7, 1, 8, 0),
            utc(2025, 7, 2, 8, 0),
            utc(2025, 7, 3, 8, 0),
        ]


def test_rrule_count_is_counted_from_the_start():
    # COUNT rules cannot seek: instances are numbered from DTSTART, so this one is
    # expanded from its start on every call.
    rule = RRuleRule(rule="FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3", start=datetime(2025, 1, 6, 9, 0))

    assert occurrences_next(rule=rule, zone=LONDON, after_utc=utc(2025, 1, 7), count=5) == [
        utc(2025, 1, 9, 9, 0),
        utc(2025, 1, 13, 9, 0),
    ]
    assert occurrence_next(rule=rule, zone=LONDON, after_utc=utc(2025, 1, 13, 9, 0)) is None


@pytest.mark.parametrize(
    ("rule", "start", "after", "expected"),
    [
        pytest.param(
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
            datetime(2025, 1, 7, 14, 30),
            utc(2031, 6, 1),
            # Every other Tuesday from Tue 7 Jan 2025: 3 June 2031 is week 334 after it.
            [utc(2031, 6, 3, 9), utc(2031, 6, 17, 9), utc(2031, 7, 1, 9)],
            id="every-other-week",
        ),
        pytest.param(
            "FREQ=MONTHLY",
            datetime(2025, 1, 31, 14, 30),
            utc(2031, 1, 15),
            # On the 31st, so only in months that have one.
            [utc(2031, 1, 31, 9), utc(2031, 3, 31, 9), utc(2031, 5, 31, 9)],
            id="monthly-on-the-31st",
        ),
        pytest.param(
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
            datetime(2025, 1, 1, 14, 30),
            utc(2030, 1, 1),
            [utc(2032, 2, 29, 9), utc(2036, 2, 29, 9), utc(2040, 2, 29, 9)],
            id="leap-day",
        ),
    ],
)
def test_rrule_seeking_years_after_the_start_keeps_the_rules_shape(rule, start, after, expected):
    # 14:30 in Kolkata (no DST) is 09:00 UTC on every date.
    fired = occurrences_next(
        rule=RRuleRule(rule=rule, start=start), zone=KOLKATA, after_utc=after, count=3
    )

    assert fired == expected


def test_rules_begun_years_ago_are_not_expanded_from_their_start():
    # On every dispatch tick "next" is asked for thousands of schedules: cron and
    # uncounted RRULEs start matching near the moment asked about, not at their start.
    seek = datetime(2035, 6, 1, 12, 0)
    rrule = RRuleRule(rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", start=datetime(2015, 1, 5, 9, 0))

    first_rrule_wall = next(rrule.recurrence.walls(seek=seek))
    first_cron_wall = next(cron_walls("0 9 * * 1", start=datetime(2015, 1, 5), seek=seek))

    assert seek - timedelta(weeks=2) <= first_rrule_wall <= seek + timedelta(weeks=2)
    assert seek <= first_cron_wall <= seek + timedelta(weeks=1)


def test_rrule_hourly_follows_the_wall_clock():
    # An RRULE is expanded in local time, FREQ=HOURLY too: the skipped hour lands on
    # the next one, the repeated hour fires once (unlike an hourly interval).
    rule = RRuleRule(rule="FREQ=HOURLY", start=datetime(2025, 1, 1, 0, 0))

    spring = occurrences_between(
        rule=rule, zone=NEW_YORK, start_utc=utc(2025, 3, 9, 5), end_utc=utc(2025, 3, 9, 9)
    )
    fall = occurrences_between(
        rule=rule, zone=NEW_YORK, start_utc=utc(2025, 11, 2, 4), end_utc=utc(2025, 11, 2, 9)
    )

    # 00:00 EST, 01:00 EST, 03:00 EDT (also 02:00), 04:00 EDT
    assert spring == [
        utc(2025, 3, 9, 5),
        utc(2025, 3, 9, 6),
        utc(2025, 3, 9, 7),
        utc(2025, 3, 9, 8),
    ]
    # 00:00 EDT, 01:00 EDT, 02:00 EST, 03:00 EST
    assert fall == [
        utc(2025, 11, 2, 4),
        utc(2025, 11, 2, 5),
        utc(2025, 11, 2, 7),
        utc(2025, 11, 2, 8),
    ]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        pytest.param(
            {"kind": "cron", "cron": "61 * * * *"},
            {"cron": ["minute field: 61 is out of range 0\N{EN DASH}59."]},
            id="cron-minute-out-of-range",
        ),
        pytest.param(
            {"kind": "cron", "cron": "0 9 * * 8"},
            {"cron": ["day-of-week field: 8 is out of range 0\N{EN DASH}7."]},
            id="cron-weekday-out-of-range",
        ),
        pytest.param(
            {"kind": "cron", "cron": "0 9 * * * *"},
            {
                "cron": [
                    "A cron expression has 5 fields (minute hour day-of-month month "
                    "day-of-week), for example “0 9 * * 1-5”; this one has 6."
                ]
            },
            id="cron-six-fields",
        ),
        pytest.param(
            {"kind": "cron", "cron": "*/90 * * * *"},
            {
                "cron": [
                    "minute field: a step of 90 goes past the whole field (0\N{EN DASH}59), "
                    "so it would fire once; use a smaller step, or an interval schedule for "
                    "longer repeats."
                ]
            },
            id="cron-step-longer-than-the-field",
        ),
        pytest.param(
            {"kind": "cron", "cron": "R 9 * * *"},
            {
                "cron": [
                    "minute field: random (R) and hashed (H) values are not supported; "
                    "write the value itself."
                ]
            },
            id="cron-random",
        ),
        pytest.param(
            {"kind": "cron", "cron": "0 9 30 2 *"},
            {
                "cron": [
                    "This expression never matches a date (there is no 30 February); "
                    "change the day-of-month or month field."
                ]
            },
            id="cron-never",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=FORTNIGHTLY"},
            {
                "rrule": [
                    "Start the rule with FREQ=YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY or MINUTELY."
                ]
            },
            id="rrule-bad-freq",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=DAILY;WKST=XX"},
            {
                "rrule": [
                    "This rule does not parse (invalid 'WKST': XX); write it like "
                    "FREQ=WEEKLY;BYDAY=MO,WE."
                ]
            },
            id="rrule-does-not-parse",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"},
            {
                "rrule": [
                    "This rule has no date in the ten years after its start, once the excluded "
                    "dates are left out; check that its parts can meet (there is no 30 "
                    "February) and that UNTIL or COUNT leave room for one."
                ]
            },
            id="rrule-never",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=DAILY;INTERVAL=0"},
            {"rrule": ["INTERVAL must be a whole number of 1 or more."]},
            id="rrule-interval-zero",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=DAILY;COUNT=3;UNTIL=20250101T000000Z"},
            {"rrule": ["Use COUNT or UNTIL, not both."]},
            id="rrule-count-and-until",
        ),
        pytest.param(
            {"kind": "interval", "every": 0, "unit": "fortnights"},
            {
                "every": ["Enter 1 or more; every 0 would never move on."],
                "unit": ["“fortnights” is not a unit; choose minutes, hours, days or weeks."],
            },
            id="interval-zero-and-bad-unit",
        ),
        pytest.param(
            {"kind": "once", "timezone": "Europe/Atlantis"},
            {
                "timezone": [
                    "“Europe/Atlantis” is not a known time zone; use an IANA name such as "
                    "Europe/Paris."
                ]
            },
            id="bad-zone",
        ),
        pytest.param(
            {"kind": "weekly"},
            {"kind": ["“weekly” is not a kind of schedule; choose once, interval, cron or rrule."]},
            id="bad-kind",
        ),
        pytest.param(
            {"kind": "once", "start": datetime(2025, 1, 1, 9, tzinfo=UTC)},
            {
                "start": [
                    "Enter the local date and time without a UTC offset; the time zone says "
                    "where it is."
                ]
            },
            id="aware-start",
        ),
    ],
)
def test_rule_from_fields_names_the_field_to_fix(fields, errors):
    entered = {"start": datetime(2025, 1, 1, 9, 0), "timezone": "Europe/London"} | fields

    with pytest.raises(ValidationError) as raised:
        rule_from_fields(**entered)

    assert raised.value.message_dict == errors


def test_rule_from_fields_reports_every_field_at_once():
    with pytest.raises(ValidationError) as raised:
        rule_from_fields(
            kind="cron", start=datetime(2025, 1, 1), timezone="Nowhere/City", cron="0 25 * * *"
        )

    assert set(raised.value.message_dict) == {"timezone", "cron"}


def test_rule_from_fields_builds_the_rule_and_zone():
    rule, zone = rule_from_fields(
        kind="rrule",
        start=datetime(2025, 1, 6, 9, 0),
        timezone="Europe/London",
        rrule="RRULE:FREQ=WEEKLY;BYDAY=MO",
        exdates=[datetime(2025, 1, 13, 9, 0)],
    )

    assert rule == RRuleRule(
        rule="RRULE:FREQ=WEEKLY;BYDAY=MO",
        start=datetime(2025, 1, 6, 9, 0),
        exdates=(datetime(2025, 1, 13, 9, 0),),
    )
    assert zone == LONDON


@pytest.mark.parametrize(
    ("rule", "phrase"),
    [
        (OnceRule(start=datetime(2025, 3, 3, 9, 0)), "Once on Mon 3 Mar 2025 at 09:00"),
        (
            IntervalRule(start=datetime(2025, 3, 3, 9, 0), every=2, unit="hours"),
            "Every 2 hours from Mon 3 Mar 2025 at 09:00",
        ),
        (
            IntervalRule(start=datetime(2025, 3, 3, 9, 0), every=1, unit="minutes"),
            "Every minute from Mon 3 Mar 2025 at 09:00",
        ),
        (
            IntervalRule(start=datetime(2025, 3, 3, 9, 0), every=1, unit="days"),
            "Every day at 09:00",
        ),
        (
            IntervalRule(start=datetime(2025, 3, 3, 9, 0), every=3, unit="days"),
            "Every 3 days at 09:00, from Mon 3 Mar 2025",
        ),
        (
            IntervalRule(start=datetime(2025, 3, 3, 9, 0), every=1, unit="weeks"),
            "Every Monday at 09:00",
        ),
        (
            IntervalRule(start=datetime(2025, 3, 3, 9, 0), every=2, unit="weeks"),
            "Every 2 weeks on Monday at 09:00, from Mon 3 Mar 2025",
        ),
        (
            CronRule(expression="0 9 * * 1-5", start=datetime(2025, 3, 3)),
            "At 09:00, Monday through Friday",
        ),
        (
            CronRule(expression="30 1 15w * *", start=datetime(2025, 3, 3)),
            "At 01:30, on the weekday nearest day 15 of the month",
        ),
        (
            RRuleRule(
                rule="RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
                start=datetime(2025, 3, 3, 9, 0),
                exdates=(datetime(2025, 3, 5, 9, 0),),
            ),
            "Every week on Monday and Wednesday at 09:00, from Mon 3 Mar 2025, except on 1 date",
        ),
    ],
)
def test_rule_describe(rule, phrase):
    assert rule_describe(rule=rule, zone=LONDON) == f"{phrase} (Europe/London)"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (
            "FREQ=WEEKLY;BYDAY=TU;COUNT=3",
            "Every week on Tuesday at 09:00, from Tue 2 Jun 2026, 3 times",
        ),
        ("FREQ=MONTHLY;BYDAY=-1FR", "Every month on the last Friday at 09:00, from Tue 2 Jun 2026"),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;UNTIL=20261231T235900Z",
            "Every 2 weeks on Monday, Wednesday and Friday at 09:00, from Tue 2 Jun 2026, "
            "until Thu 31 Dec 2026 23:59 UTC",
        ),
        (
            "FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1",
            "Every year in January and July on day 1 at 09:00, from Tue 2 Jun 2026",
        ),
        ("FREQ=HOURLY;INTERVAL=3", "Every 3 hours, from Tue 2 Jun 2026"),
        (
            "FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO,TU",
            "Every month on Monday and Tuesday at 09:00, from Tue 2 Jun 2026 "
            "(rule: FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO,TU)",
        ),
    ],
)
def test_rrules_are_put_into_words(line, words):
    rule = RRuleRule(rule=line, start=datetime(2026, 6, 2, 9, 0))
    assert rule_describe(rule=rule, zone=ZoneInfo("Europe/Paris")) == f"{words} (Europe/Paris)"
