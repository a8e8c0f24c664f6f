"""RRULEs at the edges: EXDATE, UNTIL and COUNT by instant, the gap rule of each FREQ,
limits on what a person can type, and a bound on what any rule can cost.

Expected instants are UTC; the comment beside each gives the local reading. New York
skips 02:00-03:00 on 9 March 2025 and repeats 01:00-02:00 on 2 November 2025.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from scheduling.recurrence import RRuleRule, occurrence_next, occurrences_next, rule_from_fields
from scheduling.recurrence.rrules import Recurrence

NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def fired(line: str, start: datetime, *, zone=NEW_YORK, exdates=(), count=10) -> list[datetime]:
    rule = RRuleRule(rule=line, start=start, exdates=tuple(exdates))
    return occurrences_next(rule=rule, zone=zone, after_utc=utc(2000, 1, 1), count=count)


# EXDATE and UNTIL compare instants.


def test_an_exdate_naming_the_time_the_post_shows_excludes_it():
    # Daily at 02:30 posts at 03:30 EDT on the spring day; excluding 03:30 excludes it.
    assert fired(
        "FREQ=DAILY;COUNT=3", datetime(2025, 3, 8, 2, 30), exdates=[datetime(2025, 3, 9, 3, 30)]
    ) == [
        utc(2025, 3, 8, 7, 30),  # 02:30 EST
        utc(2025, 3, 10, 6, 30),  # 02:30 EDT
    ]


def test_an_hourly_exdate_just_after_the_gap_excludes_that_hour():
    assert fired(
        "FREQ=HOURLY;COUNT=4", datetime(2025, 3, 9, 1, 0), exdates=[datetime(2025, 3, 9, 3, 0)]
    ) == [
        utc(2025, 3, 9, 6),  # 01:00 EST
        utc(2025, 3, 9, 8),  # 04:00 EDT; 02:00 is not on the clock, 03:00 is excluded
        utc(2025, 3, 9, 9),  # 05:00 EDT (COUNT=4 counted 03:00 too)
    ]


def test_until_in_utc_keeps_the_last_post_before_it_in_an_overlap():
    # 01:30 EDT (05:30 UTC) is before UNTIL 06:00 UTC, though the clock then reads 01:00.
    assert fired("FREQ=DAILY;UNTIL=20251102T060000Z", datetime(2025, 11, 1, 1, 30)) == [
        utc(2025, 11, 1, 5, 30),  # 01:30 EDT
        utc(2025, 11, 2, 5, 30),  # 01:30 EDT, the first of the two
    ]


@pytest.mark.parametrize("until", ["20250309T071000Z", "20250309T031000"], ids=["utc", "local"])
def test_until_just_after_a_gap_stops_a_post_that_would_come_after_it(until):
    # 02:30 moves to 03:30 EDT (07:30 UTC), twenty minutes after UNTIL (03:10 EDT).
    assert fired(f"FREQ=DAILY;UNTIL={until}", datetime(2025, 3, 7, 2, 30)) == [
        utc(2025, 3, 7, 7, 30),  # 02:30 EST
        utc(2025, 3, 8, 7, 30),  # 02:30 EST
    ]


def test_a_local_until_in_a_gap_is_read_forward_by_the_gap():
    # UNTIL 02:30 that night is 03:30 EDT: the 03:00 EDT post is before it.
    assert fired("FREQ=HOURLY;UNTIL=20250309T023000", datetime(2025, 3, 9, 0, 0)) == [
        utc(2025, 3, 9, 5),  # 00:00 EST
        utc(2025, 3, 9, 6),  # 01:00 EST
        utc(2025, 3, 9, 7),  # 03:00 EDT
    ]


# COUNT=N is N posts; each FREQ's gap rule.


def test_hourly_count_across_the_spring_gap_skips_the_missing_hour_and_still_gives_six():
    assert fired("FREQ=HOURLY;COUNT=6", datetime(2025, 3, 9, 0, 0)) == [
        utc(2025, 3, 9, 5),  # 00:00 EST
        utc(2025, 3, 9, 6),  # 01:00 EST
        utc(2025, 3, 9, 7),  # 03:00 EDT (02:00 is not on the clock: skipped, not counted)
        utc(2025, 3, 9, 8),  # 04:00 EDT
        utc(2025, 3, 9, 9),  # 05:00 EDT
        utc(2025, 3, 9, 10),  # 06:00 EDT
    ]


def test_hourly_count_across_the_fall_back_overlap_posts_the_repeated_hour_once():
    assert fired("FREQ=HOURLY;COUNT=4", datetime(2025, 11, 2, 0, 0)) == [
        utc(2025, 11, 2, 4),  # 00:00 EDT
        utc(2025, 11, 2, 5),  # 01:00 EDT (the repeated 01:00 EST is not posted again)
        utc(2025, 11, 2, 7),  # 02:00 EST
        utc(2025, 11, 2, 8),  # 03:00 EST
    ]


def test_minutely_skips_the_half_hour_lord_howe_does_not_have():
    # Lord Howe goes from 02:00 to 02:30 on 5 October 2025.
    assert fired(
        "FREQ=MINUTELY;INTERVAL=15;COUNT=4", datetime(2025, 10, 5, 1, 45), zone=LORD_HOWE
    ) == [
        utc(2025, 10, 4, 15, 15),  # 01:45 +10:30
        utc(2025, 10, 4, 15, 30),  # 02:30 +11 (02:00 and 02:15 are not on the clock)
        utc(2025, 10, 4, 15, 45),  # 02:45 +11
        utc(2025, 10, 4, 16, 0),  # 03:00 +11
    ]


def test_an_hourly_rule_starting_in_the_gap_begins_at_the_next_hour_on_the_clock():
    assert fired("FREQ=HOURLY;COUNT=2", datetime(2025, 3, 9, 2, 0)) == [
        utc(2025, 3, 9, 7),  # 03:00 EDT
        utc(2025, 3, 9, 8),  # 04:00 EDT
    ]


def test_daily_count_moves_a_gap_time_forward_and_counts_merged_times_once():
    # 02:30 and 03:30 are both 03:30 EDT on the spring day: one post, counted once.
    assert fired("FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30;COUNT=4", datetime(2025, 3, 8, 2, 30)) == [
        utc(2025, 3, 8, 7, 30),  # 02:30 EST
        utc(2025, 3, 8, 8, 30),  # 03:30 EST
        utc(2025, 3, 9, 7, 30),  # 03:30 EDT (also 02:30, moved forward)
        utc(2025, 3, 10, 6, 30),  # 02:30 EDT
    ]


def test_excluded_dates_still_count_towards_count_as_in_rfc_5545():
    assert fired(
        "FREQ=DAILY;COUNT=3", datetime(2025, 7, 1, 9, 0), exdates=[datetime(2025, 7, 2, 9, 0)]
    ) == [utc(2025, 7, 1, 13), utc(2025, 7, 3, 13)]


def test_a_counted_rule_is_counted_from_its_start_once(monkeypatch):
    rule = RRuleRule(rule="FREQ=MINUTELY;COUNT=10000", start=datetime(2025, 1, 1, 0, 0))
    assert occurrence_next(rule=rule, zone=NEW_YORK, after_utc=utc(2025, 1, 1, 5)) == utc(
        2025, 1, 1, 5, 1
    )
    seeks = []
    walls = Recurrence.walls
    monkeypatch.setattr(
        Recurrence, "walls", lambda self, *, seek: seeks.append(seek) or walls(self, seek=seek)
    )

    # The 9,999th minute is on 7 January at 22:38 EST; the 10,000th is the last.
    later = RRuleRule(rule="FREQ=MINUTELY;COUNT=10000", start=datetime(2025, 1, 1, 0, 0))
    assert occurrences_next(rule=later, zone=NEW_YORK, after_utc=utc(2025, 1, 8, 3, 37)) == [
        utc(2025, 1, 8, 3, 38),
        utc(2025, 1, 8, 3, 39),
    ]
    assert seeks == [datetime(2025, 1, 7, 22, 37)]  # began near the moment asked


# Limits on every number, with the part to change named.


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=SECONDLY"},
            {
                "rrule": [
                    "FREQ=SECONDLY is not offered: Kairos schedules to the minute. "
                    "Use FREQ=MINUTELY, or a longer FREQ."
                ]
            },
            id="secondly",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=MINUTELY;BYSECOND=30"},
            {
                "rrule": [
                    "BYSECOND is not offered: Kairos schedules to the minute. Remove it; the "
                    "seconds of the start time are used."
                ]
            },
            id="bysecond",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": f"FREQ=DAILY;COUNT={2**64}"},
            {
                "rrule": [
                    f"COUNT={2**64} is more posts than one schedule may make; for a longer "
                    "series leave COUNT out: use at most 10,000."
                ]
            },
            id="count-past-a-machine-integer",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=WEEKLY;INTERVAL=1000000000"},
            {
                "rrule": [
                    "INTERVAL=1000000000 is more than ten years between posts with "
                    "FREQ=WEEKLY: use at most 521."
                ]
            },
            id="interval-of-a-billion-weeks",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=MONTHLY;BYMONTHDAY=99"},
            {
                "rrule": [
                    "BYMONTHDAY=99: 99 is out of range; BYMONTHDAY takes a day of the month, "
                    "1 to 31 or -1 to -31 from the end."
                ]
            },
            id="bymonthday",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=MONTHLY;BYDAY=99MO"},
            {
                "rrule": [
                    "BYDAY=99MO: 99MO is out of range; the position before the weekday is 1 "
                    "to 53, or -1 to -53 from the end."
                ]
            },
            id="byday-position",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=MINUTELY;BYSETPOS=2"},
            {
                "rrule": [
                    "BYSETPOS picks among the times of each period, and a FREQ=MINUTELY "
                    "period has too few to pick from; use BYMINUTE or BYHOUR instead."
                ]
            },
            id="bysetpos-minutely",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=YEARLY;BYSETPOS=400"},
            {
                "rrule": [
                    "BYSETPOS=400: 400 is out of range; BYSETPOS takes a position, 1 to 366 "
                    "or -1 to -366 from the end."
                ]
            },
            id="bysetpos-range",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=DAILY;UNTIL=99991231T235959"},
            {"rrule": ["UNTIL=99991231T235959 is out of range: give a date from 1900 to 2199."]},
            id="until-far-away",
        ),
        pytest.param(
            {"kind": "rrule", "rrule": "FREQ=DAILY", "exdates": [datetime(2025, 1, 1)] * 1001},
            {
                "rrule": [
                    "Leave out at most 1,000 dates; for more, end this schedule and start another."
                ]
            },
            id="too-many-exdates",
        ),
        pytest.param(
            {"kind": "interval", "every": 3_000_000, "unit": "days"},
            {
                "every": [
                    "Every 3,000,000 days is more than ten years between posts; enter at "
                    "most 3,652."
                ]
            },
            id="interval-of-three-million-days",
        ),
        pytest.param(
            {"kind": "once", "start": datetime(9999, 12, 31, 23, 0)},
            {"start": ["Enter a date from 1900 to 2199."]},
            id="start-near-the-end-of-time",
        ),
    ],
)
def test_numbers_out_of_bounds_are_refused_naming_the_part(fields, errors):
    entered = {"start": datetime(2025, 1, 1, 9, 0), "timezone": "America/New_York"} | fields

    with pytest.raises(ValidationError) as raised:
        rule_from_fields(**entered)

    assert raised.value.message_dict == errors


# No rule can occupy a worker: each is refused or answered in well under a second.

WORST_RULES = [
    "FREQ=MINUTELY;BYSETPOS=2",  # a position never there, minute after minute
    "FREQ=DAILY;BYSETPOS=2",  # the same, day after day up to the year 9999
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",  # no 30 February, sought by the minute
    "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=MINUTELY;BYMONTH=4;BYMONTHDAY=31;BYHOUR=3",
    "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=8",
    "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",  # from 2026: never a leap year
    "FREQ=MINUTELY;COUNT=10000",  # the largest COUNT, counted once
    "FREQ=MINUTELY;COUNT=1000000",
    f"FREQ=MINUTELY;COUNT={2**64}",
    "FREQ=SECONDLY",
]


@pytest.mark.parametrize("line", WORST_RULES)
def test_the_worst_rules_are_refused_or_answered_within_a_second(line):
    began = time.perf_counter()
    try:
        rule, zone = rule_from_fields(
            kind="rrule", start=datetime(2026, 1, 1, 9, 0), timezone="America/New_York", rrule=line
        )
        occurrences_next(rule=rule, zone=zone, after_utc=utc(2026, 1, 5), count=5)
    except ValidationError as refused:
        assert set(refused.message_dict) == {"rrule"}

    assert time.perf_counter() - began < 1


def test_a_rule_with_no_date_within_ten_years_has_ended_wherever_it_is_asked():
    # Seeking begins near the moment asked, and gives up ten years of calendar on.
    rule = RRuleRule(rule="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", start=datetime(2026, 1, 1))

    assert list(rule.recurrence.walls(seek=datetime(2030, 1, 1))) == []


# Whatever a person types is built or refused with a message; nothing else is raised.

PART_NAMES = [
    "FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYMONTH", "BYWEEKNO", "BYYEARDAY",
    "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS", "BYEASTER",
    "BYWEEKDAY", "BYNWEEKDAY",
]  # fmt: skip
NUMBERS = st.one_of(
    st.integers(-3, 60), st.integers(-(10**20), 10**20), st.sampled_from([366, -366, 53, 2**63])
)
VALUES = st.one_of(
    st.lists(NUMBERS, min_size=1, max_size=3).map(lambda ns: ",".join(map(str, ns))),
    st.sampled_from(["DAILY", "HOURLY", "MINUTELY", "SECONDLY", "MO", "-1FR", "99TU", "", "X"]),
    st.from_regex(r"\A\d{8}T\d{6}Z?\Z"),
)


@given(
    freq=st.sampled_from(["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY"]),
    parts=st.lists(st.tuples(st.sampled_from(PART_NAMES), VALUES), max_size=4),
)
def test_any_rule_typed_is_built_or_refused_with_a_message(freq, parts):
    line = ";".join([f"FREQ={freq}", *(f"{name}={value}" for name, value in parts)])
    try:
        rule, zone = rule_from_fields(
            kind="rrule", start=datetime(2026, 3, 8, 1, 30), timezone="America/New_York", rrule=line
        )
    except ValidationError as refused:
        assert set(refused.message_dict) == {"rrule"}
        return
    occurrences_next(rule=rule, zone=zone, after_utc=utc(2026, 3, 1), count=3)
