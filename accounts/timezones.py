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

Which zones a person may choose: the region/city zones of the tz database's
zone.tab (one or more per country, Europe/Oslo and Asia/Kolkata among them) and
UTC, read from the tzdata package rather than from the server's own files. A
legacy alias (US/Eastern, Asia/Calcutta, Etc/UTC) is understood and shown as the
zone it links to in tzdata.zi. Everything else is refused: `localtime` and
`posixrules` mean whatever the server is set to, `posix/` and `right/` are copies
(the latter counting leap seconds), `Factory` has no time, and the Etc/GMT±N
zones read backwards (Etc/GMT+5 is five hours *behind* UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

# The zones of no place: what tzdata.zi links them to is shown as UTC.
_UTC_TARGETS = frozenset({"Etc/UTC", "Etc/GMT"})


def zone_get(name: str) -> ZoneInfo:
    """The zone of a stored name: an alias gives its canonical zone.

    What a person types is checked with `zone_canonical_name`. A name stored before
    names were checked (`localtime`, `Etc/GMT+5`) is read as zoneinfo always read
    it, so a schedule kept under it still goes out when it meant to, rather than
    stopping the dispatch tick; anything zoneinfo does not know is a ValidationError.
    """
    try:
        return ZoneInfo(zone_canonical_name(name))
    except ValidationError as refusal:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise refusal from None


def zone_canonical_name(name: str) -> str:
    """The region/city name of the zone called `name`; an alias gives the zone it stands for."""
    canonical = _zone_names_canonical()
    if name in canonical:
        return name
    alias_of = _zone_aliases().get(name)
    if alias_of is not None:
        return alias_of
    if name in available_timezones():
        raise ValidationError(
            f"“{name}” is not a region/city time zone; choose the place whose clock you "
            "mean, with an IANA name such as Europe/Paris."
        )
    raise ValidationError(
        f"“{name}” is not a known time zone; use an IANA name such as Europe/Paris."
    )


def zone_choices(*, most_used: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The zones a person may choose, as form choices: `most_used` first, then all of them.

    Names in `most_used` that are aliases show as their zone; unknown ones are left out.
    """
    first = []
    for name in most_used:
        try:
            canonical = zone_canonical_name(name)
        except ValidationError:
            continue
        if canonical not in first:
            first.append(canonical)
    everything = [_zone_choice(name) for name in sorted(_zone_names_canonical())]
    if not first:
        return everything
    return [("Most used", [_zone_choice(name) for name in first]), ("All zones", everything)]


def _zone_choice(name: str) -> tuple[str, str]:
    return name, name.replace("_", " ")


@cache
def _zone_names_canonical() -> frozenset[str]:
    listed = {
        line.split("\t")[2]
        for line in _tzdata_text("zone.tab").splitlines()
        if line and not line.startswith("#")
    }
    # A name this machine cannot load is no use, however canonical.
    return frozenset((listed | {"UTC"}) & available_timezones())


@cache
def _zone_aliases() -> dict[str, str]:
    """Legacy name -> canonical name, from the link lines ("L target alias") of tzdata.zi."""
    links = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    canonical = _zone_names_canonical()
    aliases = dict.fromkeys(_UTC_TARGETS, "UTC")
    for alias in links:
        target = alias
        while target in links and target not in canonical:  # a link may name a link
            target = links[target]
        if target in _UTC_TARGETS:
            target = "UTC"
        if target in canonical and alias not in canonical:
            aliases[alias] = target
    return aliases


def _tzdata_text(name: str) -> str:
    return files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of the naive local `wall` time in `zone`, by the rules above."""
    if wall.tzinfo is not None:
        raise ValueError("wall_to_utc takes a naive wall time")
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def wall_exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether the naive `wall` time is on the clock in `zone` (not inside a gap)."""
    return utc_to_wall(wall_to_utc(wall, zone), zone).replace(tzinfo=None) == wall


def utc_to_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The aware local time of `instant` in `zone` (carries the zone's offset and name)."""
    if instant.tzinfo is None:
        raise ValueError("utc_to_wall takes an aware instant")
    return instant.astimezone(zone)
