"""Idempotency keys: a request sent again with the same `Idempotency-Key` is answered
with the first answer, without doing the work again.

The rules (README, "The API: idempotency"):
- the first request claims (caller, key) by inserting a row marked in progress, in a
  transaction of its own, before any work. The unique index decides between two
  concurrent requests: on PostgreSQL the second insert waits for the first to commit,
  then fails; the loser is told the request is in progress (409) and does nothing;
- when the work is done its answer is stored on the row (an answer meaning "try
  again", a 409, 429 or 5xx, is not kept: the row is removed so a retry can work);
- a repeat with the same fingerprint gets the stored answer; another request with
  the same key gets 422;
- a row older than `KEPT_FOR` no longer counts: it is replaced by the next claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import IdempotentRequest

KEPT_FOR = timedelta(hours=24)
Status = IdempotentRequest.Status


@dataclass(frozen=True)
class Claim:
    """What a request with a key should do: `row` set means do the work and `idempotency_store`
    its answer; otherwise answer `replay` (status, body), or refuse with `conflict`."""

    row: IdempotentRequest | None = None
    replay: tuple[int, object] | None = None
    conflict: str = ""
    reused: bool = False


def idempotency_claim(
    *,
    caller: str,
    key: str,
    fingerprint: str,
    workspace_id: int | None,
    now: datetime | None = None,
) -> Claim:
    now = now or timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    caller=caller,
                    key=key,
                    fingerprint=fingerprint,
                    workspace_id=workspace_id,
                    created_at=now,
                )
            return Claim(row=row)
        except IntegrityError:
            pass
        found = IdempotentRequest.objects.filter(caller=caller, key=key).first()
        if found is None:
            continue  # released meanwhile: claim again
        if found.created_at <= now - KEPT_FOR:
            IdempotentRequest.objects.filter(pk=found.pk, created_at=found.created_at).delete()
            continue
        if found.fingerprint != fingerprint:
            return Claim(reused=True)
        if found.status == Status.IN_PROGRESS:
            return Claim(conflict="A request with this Idempotency-Key is still being done.")
        return Claim(replay=(found.response_status, found.response_body))
    return Claim(conflict="A request with this Idempotency-Key is still being done.")


def idempotency_store(*, row: IdempotentRequest, status: int, body) -> None:
    """Keep the answer for repeats, or free the key when the answer says to try again."""
    if status in (409, 429) or status >= 500:
        idempotency_release(row=row)
        return
    IdempotentRequest.objects.filter(pk=row.pk).update(
        status=Status.DONE, response_status=status, response_body=body
    )


def idempotency_release(*, row: IdempotentRequest) -> None:
    IdempotentRequest.objects.filter(pk=row.pk).delete()


def idempotency_expired(*, cutoff: datetime) -> models.QuerySet:
    """Answers made at `cutoff` (now less `KEPT_FOR`) or before: no longer counted by a claim,
    and removed by `manage.py cleanup` (analytics/retention.py)."""
    return IdempotentRequest.objects.filter(created_at__lte=cutoff)


def idempotency_forget_expired(*, now: datetime | None = None) -> int:
    """Remove answers older than a day; returns how many."""
    now = now or timezone.now()
    deleted, _ = idempotency_expired(cutoff=now - KEPT_FOR).delete()
    return deleted
