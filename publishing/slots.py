"""Queue slots: an account's weekly posting times, and adding a post to the queue.

A slot is a weekday and a wall time on the clock of the account's workspace zone.
Each week it becomes an instant by the one rule for wall times
(accounts/timezones.py): a slot in a spring-forward gap moves forward by the gap
(Sunday 02:30 on the New York spring day is 03:30 EDT), one in a fall-back overlap
takes the first instant.

A slot instant is free for a post when no other post already holds it on any of
the post's accounts: no active schedule of another post with its next occurrence
there, and no job of another post for that occurrence that is still to go out or
went out (pending, queued, running, published).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SocialAccount
from accounts.services import audit_record
from accounts.timezones import utc_to_wall, wall_to_utc, zone_get
from posts.models import Post
from publishing.models import JobStatus, PublishJob
from publishing.plans import schedule_once
from scheduling.models import QueueSlot, Schedule

QUEUE_HORIZON_DAYS = 28
HOLDING_JOB_STATUSES = (
    JobStatus.PENDING,
    JobStatus.QUEUED,
    JobStatus.RUNNING,
    JobStatus.PUBLISHED,
)


class SlotSummary(NamedTuple):
    weekday: str
    local_time: time
    next_at: datetime


@dataclass(frozen=True)
class _SlotTime:
    at: datetime
    wall: datetime
    timezone_name: str


def slots_for_account(*, account: SocialAccount) -> list[SlotSummary]:
    """The account's slots, Monday first, each with its next instant (UTC) after now."""
    zone = zone_get(account.workspace.default_timezone)
    now = timezone.now()
    return [
        SlotSummary(
            weekday=slot.get_weekday_display(),
            local_time=slot.local_time,
            next_at=_slot_next(slot=slot, zone=zone, after=now),
        )
        for slot in account.slots.order_by("weekday", "local_time")
    ]


def slot_add(*, account: SocialAccount, weekday: int, local_time: time, actor) -> QueueSlot:
    """Make `weekday` at `local_time` (the workspace's zone) a queue slot of the account.

    Adding a slot the account already has changes nothing and records nothing.
    """
    slot = QueueSlot.objects.filter(account=account, weekday=weekday, local_time=local_time).first()
    return slot or slot_create(account=account, weekday=weekday, local_time=local_time, actor=actor)


@transaction.atomic
def slot_create(*, account: SocialAccount, weekday: int, local_time: time, actor) -> QueueSlot:
    """A new queue slot of the account; one it already has is refused (naming
    `local_time`), by the model's rules the admin's form runs too."""
    slot = QueueSlot(account=account, weekday=weekday, local_time=local_time)
    slot.full_clean()
    slot.save()
    _slot_audit(slot, actor=actor, action="queue_slot.created", message=_slot_words(slot))
    return slot


@transaction.atomic
def slot_change(*, slot: QueueSlot, actor, **values) -> QueueSlot:
    """Move a slot to another account, weekday or wall time (`account`, `weekday`,
    `local_time`); posts already scheduled in it keep their time."""
    unknown = sorted(set(values) - {"account", "weekday", "local_time"})
    if unknown:
        raise ValueError(f"Not a queue slot field: {', '.join(unknown)}.")
    was = _slot_words(slot)
    for name, value in values.items():
        setattr(slot, name, value)
    slot.full_clean()
    if _slot_words(slot) != was:
        slot.save()
        _slot_audit(
            slot, actor=actor, action="queue_slot.changed", message=f"{was} → {_slot_words(slot)}"
        )
    return slot


@transaction.atomic
def slot_delete(*, slot: QueueSlot, actor) -> None:
    """Remove a slot; posts already scheduled in it keep their time."""
    _slot_audit(slot, actor=actor, action="queue_slot.deleted", message=_slot_words(slot))
    slot.delete()


def _slot_words(slot: QueueSlot) -> str:
    return f"{slot} for @{slot.account.handle}"


def _slot_audit(slot: QueueSlot, *, actor, action: str, message: str) -> None:
    audit_record(
        workspace=slot.account.workspace,
        actor=actor,
        action=action,
        subject=slot,
        message=message,
    )


def slot_next_free(
    *,
    accounts: Iterable[SocialAccount],
    after: datetime,
    horizon_days: int = QUEUE_HORIZON_DAYS,
    exclude_post_id: int | None = None,
) -> datetime | None:
    """The earliest free instant after `after` that is a slot of every one of `accounts`.

    Looks `horizon_days` ahead; None when there is none. `exclude_post_id` is the post
    being queued: its own schedule and jobs do not hold a slot against it.
    """
    account_ids = [account.pk for account in accounts]
    until = after + timedelta(days=horizon_days)
    common = _common_slot_times(
        slot_times=_slot_times_by_account(account_ids=account_ids, after=after, until=until)
    )
    free = _first_free(
        common=common,
        account_ids=account_ids,
        after=after,
        until=until,
        exclude_post_id=exclude_post_id,
    )
    return free.at if free else None


def post_add_to_queue(*, post: Post, actor, now: datetime | None = None) -> Schedule:
    """Schedule the post once, at the next free slot shared by all its accounts.

    Locking: the post's accounts are locked (`SELECT … FOR UPDATE`, in id order so
    two queue additions cannot deadlock) while the free slot is found and taken, so
    two posts added to one account's queue at the same moment get different slots.
    On SQLite the IMMEDIATE transaction does the same. A post scheduled by hand
    takes no such lock: it may land on a slot in between, and then shares it.
    """
    now = now or timezone.now()
    account_ids = list(post.targets.order_by("account_id").values_list("account_id", flat=True))
    if not account_ids:
        raise ValidationError(
            "The post has no accounts; choose at least one account, then add it to the queue."
        )
    until = now + timedelta(days=QUEUE_HORIZON_DAYS)
    with transaction.atomic():
        accounts = list(
            SocialAccount.objects.select_for_update().filter(pk__in=account_ids).order_by("pk")
        )
        slot_times = _slot_times_by_account(account_ids=account_ids, after=now, until=until)
        without = [account for account in accounts if account.pk not in slot_times]
        if without:
            raise ValidationError(
                f"{_handles(without)} {'has' if len(without) == 1 else 'have'} no queue slots; "
                "add slots under Scheduling > Queue slots, or schedule the post at a time "
                "of your choosing."
            )
        common = _common_slot_times(slot_times=slot_times)
        if not common:
            raise ValidationError(
                f"{_handles(accounts)} have no queue slot in common in the next "
                f"{QUEUE_HORIZON_DAYS} days; give them a shared weekday and time, or queue the "
                "post for each account separately."
            )
        free = _first_free(
            common=common,
            account_ids=account_ids,
            after=now,
            until=until,
            exclude_post_id=post.pk,
        )
        if free is None:
            raise ValidationError(
                f"Every queue slot of {_handles(accounts)} in the next {QUEUE_HORIZON_DAYS} "
                "days is taken by other posts; add slots, or schedule the post at a time of "
                "your choosing."
            )
        return schedule_once(
            post=post,
            local_date=free.wall.date(),
            local_time=free.wall.time(),
            timezone_name=free.timezone_name,
            actor=actor,
            now=now,
        )


def _slot_instants(
    *, weekday: int, local_time: time, zone: ZoneInfo, after: datetime, until: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """(instant, wall time) of one weekly slot, for instants in (after, until]."""
    # Start a day early: a wall time in a gap moves forward, at most by a day.
    day = utc_to_wall(after, zone).date() - timedelta(days=1)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    while True:
        wall = datetime.combine(day, local_time)
        instant = wall_to_utc(wall, zone)
        if instant > until:
            return
        if instant > after:
            yield instant, wall
        day += timedelta(weeks=1)


def _slot_next(*, slot: QueueSlot, zone: ZoneInfo, after: datetime) -> datetime:
    # Every weekday comes round within a week, and a gap moves a time by at most a day.
    instant, _ = next(
        _slot_instants(
            weekday=slot.weekday,
            local_time=slot.local_time,
            zone=zone,
            after=after,
            until=after + timedelta(days=8),
        )
    )
    return instant


def _slot_times_by_account(
    *, account_ids: list[int], after: datetime, until: datetime
) -> dict[int, dict[datetime, _SlotTime]]:
    """Each account's slot instants in (after, until]; accounts without slots are absent."""
    slot_times: dict[int, dict[datetime, _SlotTime]] = {}
    rows = QueueSlot.objects.filter(account_id__in=account_ids).values_list(
        "account_id", "weekday", "local_time", "account__workspace__default_timezone"
    )
    for account_id, weekday, local_time, timezone_name in rows:
        times = slot_times.setdefault(account_id, {})
        zone = zone_get(timezone_name)
        for instant, wall in _slot_instants(
            weekday=weekday, local_time=local_time, zone=zone, after=after, until=until
        ):
            # Two slots can land on one instant (02:30 and 03:30 on a spring-forward
            # day); keep the earlier wall time, the one the gap moved.
            known = times.get(instant)
            if known is None or wall < known.wall:
                times[instant] = _SlotTime(at=instant, wall=wall, timezone_name=timezone_name)
    return slot_times


def _common_slot_times(*, slot_times: dict[int, dict[datetime, _SlotTime]]) -> list[_SlotTime]:
    """The instants that are a slot of every account, earliest first."""
    if not slot_times:
        return []
    first, *others = slot_times.values()
    shared = set(first).intersection(*others)
    return [first[instant] for instant in sorted(shared)]


def _first_free(
    *,
    common: list[_SlotTime],
    account_ids: list[int],
    after: datetime,
    until: datetime,
    exclude_post_id: int | None,
) -> _SlotTime | None:
    if not common:
        return None
    taken = _taken_instants(
        account_ids=account_ids, after=after, until=until, exclude_post_id=exclude_post_id
    )
    return next((slot for slot in common if slot.at not in taken), None)


def _taken_instants(
    *, account_ids: list[int], after: datetime, until: datetime, exclude_post_id: int | None
) -> set[datetime]:
    """Instants in (after, until] that other posts hold on any of the accounts."""
    schedules = Schedule.objects.filter(
        status=Schedule.Status.ACTIVE,
        next_occurrence_at__gt=after,
        next_occurrence_at__lte=until,
        post__targets__account_id__in=account_ids,
        post__deleted_at__isnull=True,
    )
    jobs = PublishJob.objects.filter(
        account_id__in=account_ids,
        status__in=HOLDING_JOB_STATUSES,
        occurrence_at__gt=after,
        occurrence_at__lte=until,
    )
    if exclude_post_id is not None:
        schedules = schedules.exclude(post_id=exclude_post_id)
        jobs = jobs.exclude(post_id=exclude_post_id)
    return set(schedules.values_list("next_occurrence_at", flat=True)) | set(
        jobs.values_list("occurrence_at", flat=True)
    )


def _handles(accounts: Iterable[SocialAccount]) -> str:
    return ", ".join(f"@{account.handle}" for account in accounts)
