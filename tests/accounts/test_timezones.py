from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from accounts.timezones import (
    utc_to_wall,
    wall_exists,
    wall_to_utc,
    zone_canonical_name,
    zone_choices,
    zone_get,
)


@pytest.mark.parametrize(
    ("zone", "wall", "expected_utc"),
    [
        # An ordinary day: Paris is UTC+1 in winter.
        ("Europe/Paris", datetime(2026, 1, 15, 9, 0), datetime(2026, 1, 15, 8, 0)),
        # Spring forward, New York skips 02:00-03:00: 02:30 moves on by the gap to 03:30 EDT.
        ("America/New_York", datetime(2025, 3, 9, 2, 30), datetime(2025, 3, 9, 7, 30)),
        # Fall back, New York repeats 01:00-02:00: 01:30 is the first one, EDT.
        ("America/New_York", datetime(2025, 11, 2, 1, 30), datetime(2025, 11, 2, 5, 30)),
        # Lord Howe moves by 30 minutes: 02:15 on the spring day becomes 02:45.
        ("Australia/Lord_Howe", datetime(2025, 10, 5, 2, 15), datetime(2025, 10, 4, 15, 45)),
        # Kolkata has no DST at all.
        ("Asia/Kolkata", datetime(2025, 3, 30, 2, 30), datetime(2025, 3, 29, 21, 0)),
    ],
)
def test_wall_time_to_utc(zone, wall, expected_utc):
    assert wall_to_utc(wall, zone_get(zone)) == expected_utc.replace(tzinfo=UTC)


def test_a_gap_time_reads_back_moved_forward_by_the_gap():
    zone = zone_get("America/New_York")
    back = utc_to_wall(wall_to_utc(datetime(2025, 3, 9, 2, 30), zone), zone)
    assert (back.hour, back.minute, back.tzname()) == (3, 30, "EDT")


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", " Europe/Paris", "../etc/passwd"])
def test_unknown_zone_names_are_refused_with_advice(name):
    with pytest.raises(ValidationError, match="IANA name such as Europe/Paris"):
        zone_get(name)


def test_wall_to_utc_takes_only_naive_times():
    with pytest.raises(ValueError, match="naive"):
        wall_to_utc(datetime(2026, 1, 1, tzinfo=UTC), zone_get("UTC"))


@pytest.mark.parametrize(
    "name", ["localtime", "Factory", "Etc/GMT+5", "EST5EDT", "posixrules", "posix/Europe/Paris"]
)
def test_zones_of_no_region_or_city_are_refused(name):
    # localtime and posixrules mean the server's setting; Etc/GMT+5 is UTC-5.
    with pytest.raises(ValidationError, match="IANA name such as Europe/Paris"):
        zone_canonical_name(name)


@pytest.mark.parametrize("name", ["localtime", "Etc/GMT+5", "posixrules"])
def test_a_name_stored_before_names_were_checked_is_still_read(name):
    # A schedule kept under it must not stop the dispatch tick after an upgrade.
    assert zone_get(name) == ZoneInfo(name)


def test_a_name_zoneinfo_never_knew_is_refused_when_read():
    with pytest.raises(ValidationError, match="not a known time zone"):
        zone_get("Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("US/Eastern", "America/New_York"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Etc/UTC", "UTC"),
        ("GMT", "UTC"),
    ],
)
def test_legacy_aliases_stand_for_their_canonical_zone(alias, canonical):
    assert zone_canonical_name(alias) == canonical
    assert zone_get(alias).key == canonical


def test_zones_merged_in_the_database_keep_their_own_name():
    # tzdata.zi links Europe/Oslo to Europe/Berlin, but zone.tab lists it for Norway.
    assert zone_canonical_name("Europe/Oslo") == "Europe/Oslo"


def test_zone_choices_offer_only_canonical_names():
    names = {name for name, _ in zone_choices()}

    assert {"Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"} <= names
    assert not names & {"localtime", "posixrules", "Factory", "US/Eastern", "Etc/UTC"}
    assert not any(name.startswith(("posix/", "right/", "Etc/")) for name in names)


def test_zone_choices_put_the_most_used_first_by_their_canonical_name():
    most_used, everything = zone_choices(most_used=["US/Eastern", "Europe/Paris", "Mars/X"])

    assert most_used == (
        "Most used",
        [("America/New_York", "America/New York"), ("Europe/Paris", "Europe/Paris")],
    )
    assert everything[0] == "All zones"


def test_wall_exists_is_false_only_inside_a_gap():
    zone = zone_get("America/New_York")

    assert not wall_exists(datetime(2025, 3, 9, 2, 30), zone)
    assert wall_exists(datetime(2025, 3, 9, 3, 0), zone)
    assert wall_exists(datetime(2025, 11, 2, 1, 30), zone)  # an overlap: on the clock twice
