"""Turning what a person meant (a local wall time in an IANA zone) into an instant.

Kairos stores instants in UTC and, next to them, the wall time and zone a person
chose. The rule for wall times that a zone skips or repeats is written here once:

* A wall time inside a spring-forward gap does not exist. It moves forward by the
  length of the gap (02:30 on a day New York skips 02:00-03:00 becomes 03:30 EDT).
* A wall time inside a fall-back overlap happens twice. It takes the first instant
  (01:30 on the day New York repeats 01:00-02:00 is 01:30 EDT, not EST).

That is RFC 5545's rule for a single DATE-TIME. For recurrences RFC 5545 would drop
an instance that falls in a gap; Kairos deliberately does not, because a dropped
post is a lost post.

Both cases fall out of `zoneinfo` with `fold=0`: in a gap, fold=0 applies the
offset in force *before* the transition, which lands exactly one gap-length later
on the wall clock; in an overlap, fold=0 is the earlier of the two instants.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError


def zone_get(name: str) -> ZoneInfo:
    """The zone called `name`, or a ValidationError that says what to type instead."""
    if not name or name != name.strip():
        raise ValidationError(
            f"“{name}” is not a time zone; use an IANA name such as Europe/Paris."
        )
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"“{name}” is not a known time zone; use an IANA name such as Europe/Paris."
        ) from exc


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone this machine knows, sorted, as form choices."""
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of the naive local `wall` time in `zone`, by the rules above."""
    if wall.tzinfo is not None:
        raise ValueError("wall_to_utc takes a naive wall time")
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def utc_to_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The aware local time of `instant` in `zone` (carries the zone's offset and name)."""
    if instant.tzinfo is None:
        raise ValueError("utc_to_wall takes an aware instant")
    return instant.astimezone(zone)
