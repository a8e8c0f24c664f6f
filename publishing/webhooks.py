"""Webhooks: a workspace's events, sent to its endpoints, signed per Standard Webhooks.

A delivery (one event for one endpoint) moves

    pending ──► delivered                       (the receiver answered 2xx)
       │ ▲
       │ └── (an error or non-2xx: tried again with backoff, for a day)
       └───► failed ──► pending                 (given up; "send again")

Every attempt is a compare-and-set on the delivery: a worker claims it
(`pending`, due, not being sent, endpoint active) by setting `sending_until` a
little past the request's timeout and raising `attempt_count`; a second worker
(a repeated message, the sweep) finds nothing to claim. A worker that dies
mid-request leaves the claim to run out, and the sweep sends it again: delivery
is at least once, and the `webhook-id` header (the event's stable id) lets the
receiver drop repeats. The request is made outside any transaction.

Kairos sends only to public addresses (`webhook_url_refusal`): an endpoint whose host
resolves to a loopback, private, link-local, multicast, reserved or unspecified address
is refused when registered, and looked up again before each attempt (its DNS may have
changed since), which is then not sent and recorded as failed like any other error.
The attempt connects to the address that look-up checked (`PinnedAdapter`), not to a
second answer of the resolver, so a name that answers a public address to the check
and an inside one to the request (DNS rebinding) gets nowhere; the host name is kept
for the Host header, TLS's SNI and the certificate's check. Redirects are never
followed. KAIROS_WEBHOOKS_ALLOW_PRIVATE=true lets an operator send to receivers inside
their own network.

An endpoint whose deliveries were given up KAIROS_WEBHOOK_DISABLE_AFTER times in a
row is disabled, audited as `webhook.disabled`, and its workspace's owners are
notified from that event (publishing/notifications.py).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from requests.adapters import HTTPAdapter
from standardwebhooks.webhooks import Webhook

from accounts.crypto import CredentialsUnreadable
from accounts.events import EVENT_TYPES
from accounts.models import AuditEvent, WebhookDelivery, WebhookEndpoint, Workspace
from accounts.services import audit_record, webhook_secret_new, webhook_secret_read
from publishing import metrics
from publishing.backoff import BackoffSchedule
from publishing.payloads import event_payload

logger = logging.getLogger(__name__)

D = WebhookDelivery.Status
TIMEOUT_SECONDS = 10
# A claim outlives the request's timeout, so it is never taken from a live sender.
SENDING_LEASE = timedelta(seconds=TIMEOUT_SECONDS * 3)
DELIVER_TASK = "publishing.tasks.webhook_deliver"


def webhook_backoff() -> BackoffSchedule:
    """30 s, 1, 2, 4 … minutes, then every 2 hours: about 20 tries in the day a delivery
    has (the first delay is KAIROS_WEBHOOK_RETRY_BASE_SECONDS)."""
    return BackoffSchedule(
        base=timedelta(seconds=settings.KAIROS_WEBHOOK_RETRY_BASE_SECONDS),
        factor=2.0,
        cap=timedelta(hours=2),
        max_attempts=25,
    )


class WebhookError(ValueError):
    """An endpoint's settings a person must change (shown by the admin and API)."""


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    # Shown once, to the person who made the endpoint; only its encryption is stored.
    secret: str


def webhook_events_check(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise WebhookError(
            f"Unknown event type(s) {', '.join(unknown)}; choose from {', '.join(EVENT_TYPES)}."
        )
    return sorted(set(events))


# What an address is, asked in this order: Python counts 127.0.0.1, 169.254.169.254 and
# 240.0.0.1 as private too, but "loopback", "link-local" and "reserved" say more.
INSIDE_KINDS = ("loopback", "link_local", "multicast", "reserved", "unspecified", "private")


def webhook_url_refusal(url: str) -> str:
    """Why Kairos will not send to `url`, or "" when it may: its host must resolve, and
    only to public addresses, so that an endpoint cannot make Kairos call into its own
    network (SSRF). Always "" with KAIROS_WEBHOOKS_ALLOW_PRIVATE."""
    return webhook_url_resolve(url)[1]


def webhook_url_resolve(url: str) -> tuple[str, str]:
    """The address to send to for `url` and why Kairos will not ("" when it will), from
    one look-up of its host. The address is "" where that failed, which only
    KAIROS_WEBHOOKS_ALLOW_PRIVATE lets through (the request then fails as it would)."""
    allow_private = settings.KAIROS_WEBHOOKS_ALLOW_PRIVATE
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "", "" if allow_private else "The URL cannot be read; give an http(s) address."
    if not host:
        return "", "" if allow_private else "The URL names no host."
    try:
        found = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return "", "" if allow_private else f"{host} cannot be resolved; check the address."
    addresses = [_address(sockaddr[0]) for *_, sockaddr in found]
    if not allow_private:
        for address in addresses:
            if kind := _inside_kind(address):
                return "", (
                    f"{host} resolves to {address}, a {kind} address: Kairos sends webhooks to "
                    "public addresses only. Use a public address, or have an operator set "
                    "KAIROS_WEBHOOKS_ALLOW_PRIVATE=true for receivers inside the network."
                )
    return str(addresses[0]), ""


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _inside_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """What kind of address inside a network `address` is, or "" for a public one."""
    kind = next((k for k in INSIDE_KINDS if getattr(address, f"is_{k}")), "")
    if not kind and not address.is_global:
        kind = "non-public"
    return kind.replace("_", "-")


class PinnedAdapter(HTTPAdapter):
    """requests' adapter, connecting to `address` whatever the URL's host resolves to by
    then. The URL keeps its host name: it is the Host header (set here, since urllib3
    would name the address), TLS's server name and the name the certificate must hold."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        name = host_params["host"]
        host_params["host"] = self.address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs

    def add_headers(self, request, **kwargs) -> None:
        request.headers["Host"] = urlsplit(request.url).netloc.rpartition("@")[2]


def webhook_url_check(url: str) -> None:
    """Refuse (ValidationError on `url`) an address `webhook_url_refusal` refuses, for
    `webhook_endpoint_create` (the API's way in); the admin's form asks the refusal itself."""
    refusal = webhook_url_refusal(url)
    if refusal:
        raise ValidationError({"url": refusal})


def webhook_endpoint_create(
    *, workspace: Workspace, url: str, events: list[str], actor, description: str = ""
) -> NewEndpoint:
    webhook_url_check(url)
    secret, stored = webhook_secret_new()
    endpoint = WebhookEndpoint(
        workspace=workspace,
        url=url,
        description=description,
        events=webhook_events_check(events),
        secret=stored,
    )
    endpoint.full_clean()
    with transaction.atomic():
        endpoint.save()
        audit_record(
            workspace=workspace,
            actor=actor,
            action="webhook.created",
            subject=endpoint,
            data={"url": url, "events": endpoint.events},
        )
    return NewEndpoint(endpoint=endpoint, secret=secret)


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor) -> None:
    with transaction.atomic():
        audit_record(
            workspace=endpoint.workspace,
            actor=actor,
            action="webhook.deleted",
            subject=endpoint,
            data={"url": endpoint.url},
        )
        endpoint.delete()


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint, actor) -> bool:
    """Turn a disabled endpoint back on; its waiting deliveries go out again."""
    with transaction.atomic():
        enabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=False).update(
            active=True, disabled_at=None, failure_count=0
        )
        if enabled:
            audit_record(
                workspace=endpoint.workspace,
                actor=actor,
                action="webhook.enabled",
                subject=endpoint,
            )
    return bool(enabled)


def webhook_deliveries_make(
    *, events: list[tuple[AuditEvent, str]], now: datetime
) -> list[WebhookDelivery]:
    """A pending delivery of each (event, type) for every active endpoint of its
    workspace that wants the type. Idempotent: (endpoint, event) is unique."""
    workspace_ids = {event.workspace_id for event, _ in events}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(workspace_id__in=workspace_ids, active=True):
        endpoints.setdefault(endpoint.workspace_id, []).append(endpoint)
    deliveries = [
        WebhookDelivery(endpoint=endpoint, event=event, event_type=event_type, next_try_at=now)
        for event, event_type in events
        for endpoint in endpoints.get(event.workspace_id, [])
        if endpoint.wants(event_type)
    ]
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return deliveries


def webhook_deliveries_due(*, now: datetime, limit: int = 500) -> list[int]:
    """Ids of deliveries due to be tried (the sweep sends a message for each)."""
    return list(
        WebhookDelivery.objects.filter(_due(now))
        .order_by("next_try_at")
        .values_list("pk", flat=True)[:limit]
    )


def _due(now: datetime) -> Q:
    return Q(status=D.PENDING, next_try_at__lte=now, endpoint__active=True) & (
        Q(sending_until=None) | Q(sending_until__lt=now)
    )


def webhook_sign(*, secret: str, event_id: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one request."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=event_id, timestamp=now, data=body),
        "content-type": "application/json",
        "user-agent": "Kairos-Webhooks/1",
    }


def event_id_of(event: AuditEvent) -> str:
    return f"evt_{event.pk}"


def webhook_deliver(*, delivery_id: int) -> str:
    """Try one delivery once, if it is due and not being sent; return its status
    afterwards, or "not-due"."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(Q(pk=delivery_id) & _due(now)).update(
        sending_until=now + SENDING_LEASE, attempt_count=F("attempt_count") + 1
    )
    if not claimed:
        return "not-due"
    delivery = WebhookDelivery.objects.select_related(
        "endpoint", "event__workspace", "event__subject_type"
    ).get(pk=delivery_id)
    body = json.dumps(
        event_payload(event=delivery.event, event_type=delivery.event_type), sort_keys=True
    )
    code, error = None, ""
    address, refusal = webhook_url_resolve(delivery.endpoint.url)
    if refusal:
        error = f"Not sent: {refusal}"
    else:
        code, error = _post(delivery=delivery, body=body, now=now, address=address)
    status = _outcome_record(delivery=delivery, code=code, error=error, now=timezone.now())
    metrics.webhook_deliveries_observe(outcome="retry" if status == D.PENDING else status)
    return status


def _post(
    *, delivery: WebhookDelivery, body: str, now: datetime, address: str
) -> tuple[int | None, str]:
    """Send one signed request to `address` (the one checked; "": by the URL's host);
    the receiver's status code and what went wrong ("": 2xx)."""
    code, error = None, ""
    try:
        headers = webhook_sign(
            secret=webhook_secret_read(delivery.endpoint.secret),
            event_id=event_id_of(delivery.event),
            body=body,
            now=now,
        )
        with requests.Session() as session:
            if address:
                pinned = PinnedAdapter(address)
                session.mount("http://", pinned)
                session.mount("https://", pinned)
            response = session.post(
                delivery.endpoint.url,
                data=body.encode(),
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"The receiver answered HTTP {code}."
    except requests.RequestException as exc:
        # The exception's class only: its text may repeat the URL's credentials.
        error = f"The request failed ({type(exc).__name__})."
    except CredentialsUnreadable as exc:
        error = f"Not sent: the endpoint's secret cannot be read. {exc}"
    return code, error


def _outcome_record(*, delivery: WebhookDelivery, code: int | None, error: str, now) -> str:
    held = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=D.PENDING, attempt_count=delivery.attempt_count
    )
    endpoint = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
    if not error:
        with transaction.atomic():
            held.update(
                status=D.DELIVERED,
                response_code=code,
                last_error="",
                delivered_at=now,
                next_try_at=None,
                sending_until=None,
            )
            endpoint.update(failure_count=0)
        return D.DELIVERED
    retry_at = webhook_backoff().next_attempt_at(attempt=delivery.attempt_count, now=now)
    if retry_at is not None and retry_at <= delivery.created_at + settings.KAIROS_WEBHOOK_RETRY_FOR:
        held.update(response_code=code, last_error=error, next_try_at=retry_at, sending_until=None)
        return D.PENDING
    with transaction.atomic():
        given_up = held.update(
            status=D.FAILED,
            response_code=code,
            last_error=f"Given up after {delivery.attempt_count} attempt(s): {error}",
            next_try_at=None,
            sending_until=None,
        )
        if given_up:
            endpoint.update(failure_count=F("failure_count") + 1)
            _endpoint_disable_if_failing(endpoint_id=delivery.endpoint_id, now=now)
    return D.FAILED


def _endpoint_disable_if_failing(*, endpoint_id: int, now: datetime) -> None:
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint_id, active=True, failure_count__gte=settings.KAIROS_WEBHOOK_DISABLE_AFTER
    ).update(active=False, disabled_at=now)
    if disabled:
        endpoint = WebhookEndpoint.objects.select_related("workspace").get(pk=endpoint_id)
        audit_record(
            workspace=endpoint.workspace,
            actor=None,
            action="webhook.disabled",
            subject=endpoint,
            message=f"Disabled after {endpoint.failure_count} deliveries in a row were given "
            f"up (each tried for {settings.KAIROS_WEBHOOK_RETRY_FOR}). Fix the receiver at "
            f"{endpoint.url}, then enable the endpoint again.",
        )


def webhook_delivery_send_again(*, delivery: WebhookDelivery, actor) -> bool:
    """Put a delivery back to be sent at once (after the receiver was fixed), with a
    fresh day of retries: its age, which bounds them, counts from now."""
    now = timezone.now()
    with transaction.atomic():
        again = (
            WebhookDelivery.objects.filter(pk=delivery.pk)
            .exclude(status=D.PENDING, sending_until__gte=now)
            .update(status=D.PENDING, next_try_at=now, sending_until=None, created_at=now)
        )
        if again:
            audit_record(
                workspace=delivery.endpoint.workspace,
                actor=actor,
                action="webhook.sent_again",
                subject=delivery,
                data={"event": delivery.event_id},
            )
            transaction.on_commit(lambda: _send(delivery.pk))
    return bool(again)


def webhook_deliveries_send(delivery_ids: list[int]) -> None:
    """After commit, one message per delivery on the webhooks queue."""
    for delivery_id in delivery_ids:
        transaction.on_commit(lambda delivery_id=delivery_id: _send(delivery_id))


def _send(delivery_id: int) -> None:
    try:
        current_app.send_task(DELIVER_TASK, args=[delivery_id], queue="webhooks")
    except Exception:
        logger.warning("webhook delivery %s not queued; the sweep will", delivery_id)
