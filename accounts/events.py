"""The events Kairos tells the outside about: one catalogue over the audit trail.

The audit trail (`AuditEvent`, written by `audit_record` in the transaction of
the change) is the outbox: webhooks and notifications are made from its rows
after commit (publishing/events.py), so an event exists exactly when its change
does. An event's id is its audit row's id, stable across every retry.

Most event types are an audit action as it is. A post's outcome is one audit
action, `post.status_changed`, written by the roll-up (publishing/services.py,
the one place a post's status is derived from its jobs); its type is read from
the status it reached.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import connection, transaction

logger = logging.getLogger(__name__)

POST_STATUS_CHANGED = "post.status_changed"

# Event type → what it means, for the README, the admin's choices and the API.
EVENT_TYPES: dict[str, str] = {
    "post.scheduled": "A post was scheduled (once or recurring).",
    "post.published": "Every job of the post's latest occurrence published.",
    "post.partially_published": "Some jobs published, others failed or were cancelled.",
    "post.failed": "No job of the post's latest occurrence published.",
    "post.cancelled": "Staff or an integrator cancelled the post.",
    "job.needs_review": "A job's outcome is unknown; a person must check the network.",
    "job.missed": "A job could not start within the workspace's missed-post window.",
    "post.metrics_updated": "New metrics were read for a published job.",
    "account.rate_limited": "A network refused an account's post for pace; jobs wait.",
    "account.needs_reauth": "A network refused an account's sign-in; reconnect it.",
    "account.billing_problem": "A network refused an account for billing.",
    "post.review_requested": "A post was sent for approval.",
    "post.approved": "A post was approved.",
    "post.changes_requested": "An approver asked for changes to a post.",
}

# Events for members only (notifications), never sent to webhooks.
NOTICE_ONLY: dict[str, str] = {
    "webhook.disabled": "A webhook endpoint was disabled after repeated failure.",
}

# The post statuses whose reaching is an event of its own.
_POST_OUTCOMES = {
    "published": "post.published",
    "partially_published": "post.partially_published",
    "failed": "post.failed",
}
# Audit actions that are events as they are.
_AS_IS = (frozenset(EVENT_TYPES) - set(_POST_OUTCOMES.values())) | frozenset(NOTICE_ONLY)
# Every audit action the fan-out must read.
ACTIONS = _AS_IS | {POST_STATUS_CHANGED}

FAN_OUT_TASK = "publishing.tasks.events_fan_out"


def event_type_of(*, action: str, to_status: str) -> str | None:
    """The event type an audit row stands for, or None when it is for the audit alone."""
    if action == POST_STATUS_CHANGED:
        return _POST_OUTCOMES.get(to_status)
    return action if action in _AS_IS else None


def events_announce() -> None:
    """Ring the fan-out's doorbell once the current transaction commits (once per
    transaction, however many events it wrote).

    Only a doorbell: a message lost (broker down, a crash between commit and send)
    is made up for by the periodic sweep, so a failure here is logged, never raised
    into the change that wrote the event.
    """
    pending = connection.run_on_commit if connection.in_atomic_block else []
    if any(callback is _fan_out_send for _, callback, _ in pending):
        return
    transaction.on_commit(_fan_out_send)


def _fan_out_send() -> None:
    try:
        current_app.send_task(FAN_OUT_TASK, queue="events", ignore_result=True)
    except Exception:
        logger.warning("events fan-out not announced; the sweep will pick it up", exc_info=True)
