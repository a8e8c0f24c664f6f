"""The outbox's reader: audit events become webhook deliveries and notifications.

`events_announce` (accounts/events.py) rings after a commit that wrote an event;
the periodic sweep runs the same fan-out every minute, so an event whose doorbell
was lost (broker down, a crash right after commit) still goes out: at least once.

Locking rules: the fan-out takes the waiting events (`fanned_out_at` empty) with
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises writers), makes
their deliveries and notifications and marks them, all in one transaction: two
fan-outs never take the same event, and a fan-out that dies takes nothing with
it. Deliveries are unique per (endpoint, event), so even a repeat makes nothing
twice. Sending (HTTP, e-mail) happens after commit, outside the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.events import ACTIONS, EVENT_TYPES, event_type_of
from accounts.models import AuditEvent, WebhookDelivery
from publishing.notifications import notifications_email, notifications_make
from publishing.webhooks import webhook_deliveries_make, webhook_deliveries_send

# Events older than this are left alone: the audit trail is older than the outbox,
# and an event a day late is no news.
HORIZON = timedelta(days=1)
BATCH_SIZE = 500


def events_fan_out(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Make the deliveries and notifications of one batch of waiting events; return
    how many events were taken."""
    now = now or timezone.now()
    with transaction.atomic():
        events = list(
            AuditEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(fanned_out_at=None, action__in=ACTIONS, created_at__gte=now - HORIZON)
            .select_related("subject_type", "workspace")
            .order_by("pk")[:batch_size]
        )
        if not events:
            return 0
        typed = [
            (event, event_type)
            for event in events
            if (event_type := event_type_of(action=event.action, to_status=event.to_status))
        ]
        webhook_deliveries_make(
            events=[(event, kind) for event, kind in typed if kind in EVENT_TYPES], now=now
        )
        new_notifications = notifications_make(events=typed, now=now)
        AuditEvent.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out_at=now)
        webhook_deliveries_send(
            list(
                WebhookDelivery.objects.filter(
                    event__in=[event for event, _ in typed], attempt_count=0
                ).values_list("pk", flat=True)
            )
        )
        transaction.on_commit(lambda: notifications_email(new_notifications))
    return len(events)


def events_fan_out_all(*, now: datetime | None = None) -> int:
    """Fan out every waiting event, batch after batch (the sweep)."""
    taken = total = events_fan_out(now=now)
    while taken == BATCH_SIZE:
        taken = events_fan_out(now=now)
        total += taken
    return total
