"""The publish job's state machine: the allowed transitions, written down once.

    pending ──► queued ──► running ──► published
       ▲          │  ▲        │  ▲
       │          │  │        │  └ (recovery: reconcile with the network)
       │          │  └(resend)├──► pending (retry later)
       │          │           ├──► failed
       │          │           └──► needs_review ──► published | pending | cancelled
       │          │                  │   ▲
       │          │                  ▼   │ (operator: `manage.py reconcile` asks again)
       │          │                running
       ├──────────┴──► cancelled
       └── missed, failed (staff: publish now / retry)

Every change is a compare-and-set: `UPDATE … SET status = new WHERE id = … AND
status IN (expected)`. Zero rows updated means another process moved the job
first (a second worker, the sweeper, a member of staff cancelling); the caller
lost the race and must not act as if it had won. Nothing reads a job, changes
the status in Python and saves it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q

from publishing.models import JobStatus, PublishJob
from publishing.rows import rows_update

S = JobStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.QUEUED, S.CANCELLED, S.MISSED}),
    # queued → queued: the message was lost and is sent again with a new lease.
    # queued → pending: deferred before calling the network (a spent rate limit).
    S.QUEUED: frozenset({S.QUEUED, S.PENDING, S.RUNNING, S.CANCELLED, S.MISSED}),
    S.RUNNING: frozenset({S.PUBLISHED, S.PENDING, S.FAILED, S.NEEDS_REVIEW}),
    # needs_review → running: an operator has the network asked again (publishing/review.py).
    S.NEEDS_REVIEW: frozenset({S.PUBLISHED, S.PENDING, S.CANCELLED, S.RUNNING}),
    S.FAILED: frozenset({S.PENDING}),
    S.MISSED: frozenset({S.PENDING}),
    S.PUBLISHED: frozenset(),
    S.CANCELLED: frozenset(),
}

ACTIVE = frozenset({S.PENDING, S.QUEUED, S.RUNNING})
TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


class TransitionNotAllowed(ValueError):
    pass


def transition_check(from_statuses: Iterable[str], to_status: str) -> None:
    for from_status in from_statuses:
        if to_status not in TRANSITIONS[from_status]:
            raise TransitionNotAllowed(f"A job cannot go from {from_status} to {to_status}.")


def job_transition(
    *,
    job_ids: Iterable[int],
    from_statuses: Iterable[str],
    to_status: str,
    now: datetime,
    extra: Q | None = None,
    **fields,
) -> int:
    """Move the jobs still in one of `from_statuses` to `to_status`; return how many moved.

    `extra` narrows the compare-and-set further (e.g. the attempt number, so a
    worker whose job was recovered from under it cannot record a stale outcome).
    """
    from_statuses = tuple(from_statuses)
    transition_check(from_statuses, to_status)
    condition = Q(pk__in=list(job_ids), status__in=from_statuses)
    if extra is not None:
        condition &= extra
    return PublishJob.objects.filter(condition).update(status=to_status, updated_at=now, **fields)


def jobs_transition_held(
    *,
    held: Sequence[tuple[int, int, dict[str, Any]]],
    from_status: str,
    to_status: str,
    now: datetime,
) -> int:
    """Move each job still in `from_status` and held with its claim token to `to_status`,
    each with fields of its own: `held` is (job id, claim token, fields). Returns how
    many moved; a job whose claim was taken meanwhile is left alone.

    One statement per job, all in one round trip (`publishing.rows`): a worker
    settles a whole batch this way.
    """
    transition_check([from_status], to_status)
    return rows_update(
        model=PublishJob,
        rows=[
            (
                {"status": to_status, "updated_at": now, **fields},
                {"id": job_id, "status": from_status, "claim_token": token},
            )
            for job_id, token, fields in held
        ],
    )
