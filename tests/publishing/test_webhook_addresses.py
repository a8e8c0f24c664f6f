"""Webhooks go to public addresses only (publishing/webhooks.py, `webhook_url_refusal`):
refused when registered through the admin or the API, and looked up again before each
delivery, since a name's DNS may change after it was registered."""

import socket
from urllib.parse import urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, WebhookDelivery, WebhookEndpoint
from publishing.events import events_fan_out
from publishing.webhooks import webhook_deliver, webhook_endpoint_create, webhook_url_refusal
from tests.factories import MembershipFactory
from tests.publishing.test_webhooks import published_job
from tests.webhook_receiver import certificate_self_signed, webhook_receiver

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"


@pytest.fixture(autouse=True)
def public_addresses_only(settings):
    settings.KAIROS_WEBHOOKS_ALLOW_PRIVATE = False


@pytest.fixture
def dns(monkeypatch):
    """Names this test resolves, as the resolver would answer; other names as usual."""
    names: dict[str, str] = {}
    resolve = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def owner():
    return MembershipFactory(role=Membership.Role.OWNER)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8000/hooks", "127.0.0.1, a loopback"),
        ("http://localhost/hooks", "a loopback"),
        ("http://[::1]/hooks", "::1, a loopback"),
        ("http://[::ffff:127.0.0.1]/hooks", "127.0.0.1, a loopback"),
        ("https://10.1.2.3/hooks", "10.1.2.3, a private"),
        ("https://192.168.0.10/hooks", "a private"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local"),
        ("https://224.0.0.1/hooks", "a multicast"),
        ("https://240.0.0.1/hooks", "a reserved"),
        ("http://0.0.0.0/hooks", "0.0.0.0, a"),
        ("https://100.64.0.1/hooks", "100.64.0.1, a non-public"),
    ],
)
def test_addresses_inside_a_network_are_refused_naming_the_setting(url, kind):
    refusal = webhook_url_refusal(url)
    assert kind in refusal
    assert "KAIROS_WEBHOOKS_ALLOW_PRIVATE=true" in refusal


def test_a_public_address_and_a_name_resolving_to_one_are_allowed(dns):
    dns["hooks.example.com"] = PUBLIC
    assert webhook_url_refusal(f"https://{PUBLIC}/hooks") == ""
    assert webhook_url_refusal("https://hooks.example.com/k") == ""


def test_a_name_that_does_not_resolve_is_refused():
    assert "cannot be resolved" in webhook_url_refusal("https://nowhere.invalid/hooks")


def test_the_setting_lets_private_addresses_through(settings):
    settings.KAIROS_WEBHOOKS_ALLOW_PRIVATE = True
    assert webhook_url_refusal("http://127.0.0.1:8000/hooks") == ""


def test_the_api_refuses_a_private_endpoint_on_its_url_field(owner):
    client = APIClient()
    client.force_login(owner.user)
    answer = client.post(
        "/api/v1/webhooks/",
        {"workspace": owner.workspace.pk, "url": "http://10.0.0.7/hooks"},
        format="json",
    )
    assert answer.status_code == 400
    assert "10.0.0.7, a private address" in answer.json()["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_refuses_a_private_endpoint_on_add_and_on_change(owner, dns):
    client = Client()
    client.force_login(owner.user)
    form = {"workspace": owner.workspace.pk, "url": "http://169.254.169.254/", "active": "on"}
    page = client.post("/admin/accounts/webhookendpoint/add/", form)
    assert page.status_code == 200
    assert "a link-local address" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()

    dns["hooks.example.com"] = PUBLIC
    endpoint = webhook_endpoint_create(
        workspace=owner.workspace, url="https://hooks.example.com/k", events=[], actor=None
    ).endpoint
    page = client.post(
        f"/admin/accounts/webhookendpoint/{endpoint.pk}/change/",
        {"url": "http://127.0.0.1:6379/", "events": [], "active": "on"},
    )
    assert "a loopback address" in page.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/k"


def test_a_name_that_now_resolves_inside_the_network_is_not_sent_to(owner, dns):
    dns["hooks.example.com"] = PUBLIC
    webhook_endpoint_create(
        workspace=owner.workspace, url="https://hooks.example.com/k", events=[], actor=None
    )
    published_job(owner.workspace)
    events_fan_out()
    dns["hooks.example.com"] = "10.0.0.5"
    delivery = WebhookDelivery.objects.filter(event_type="post.published").get()

    assert webhook_deliver(delivery_id=delivery.pk) == WebhookDelivery.Status.PENDING

    delivery.refresh_from_db()
    assert delivery.response_code is None
    assert delivery.last_error.startswith(
        "Not sent: hooks.example.com resolves to 10.0.0.5, a private address"
    )
    assert delivery.next_try_at is not None


# --- One look-up, and its address is the one connected to (DNS rebinding) ------------


@pytest.fixture
def rebinding(monkeypatch):
    """Make `name` resolve to `first` once, then to `then` (the answer a rebinding
    resolver gives the request after the check); counts the look-ups."""
    looked_up = []
    resolve = socket.getaddrinfo

    def rebind(name: str, *, first: str, then: str) -> list[str]:
        def getaddrinfo(host, port, *args, **kwargs):
            if host != name:
                return resolve(host, port, *args, **kwargs)
            looked_up.append(host)
            address = first if len(looked_up) == 1 else then
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return looked_up

    return rebind


def a_delivery_to(owner, url: str) -> WebhookDelivery:
    webhook_endpoint_create(workspace=owner.workspace, url=url, events=[], actor=None)
    published_job(owner.workspace)
    events_fan_out()
    return WebhookDelivery.objects.filter(event_type="post.published").get()


def test_the_request_goes_to_the_address_checked_not_to_a_second_answer(settings, owner, rebinding):
    # Inside addresses allowed, so that the checked one may be this test's receiver;
    # the second answer, 127.0.0.2, has nothing listening there.
    settings.KAIROS_WEBHOOKS_ALLOW_PRIVATE = True
    with webhook_receiver() as receiver:
        port = urlsplit(receiver.url).port
        delivery = a_delivery_to(owner, f"http://hooks.example.com:{port}/hooks")
        looked_up = rebinding("hooks.example.com", first="127.0.0.1", then="127.0.0.2")

        assert webhook_deliver(delivery_id=delivery.pk) == WebhookDelivery.Status.DELIVERED

    assert looked_up == ["hooks.example.com"]
    [received] = receiver.received
    assert received.headers["Host"] == f"hooks.example.com:{port}"


@pytest.mark.parametrize(
    ("certified", "delivered"), [("hooks.example.com", True), ("other.example.com", False)]
)
def test_over_https_the_pinned_request_checks_the_certificate_against_the_name(
    settings, owner, rebinding, monkeypatch, tmp_path, certified, delivered
):
    settings.KAIROS_WEBHOOKS_ALLOW_PRIVATE = True
    certificate = certificate_self_signed(certified, tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    with webhook_receiver(tls=certificate) as receiver:
        port = urlsplit(receiver.url).port
        delivery = a_delivery_to(owner, f"https://hooks.example.com:{port}/hooks")
        rebinding("hooks.example.com", first="127.0.0.1", then="127.0.0.2")

        status = webhook_deliver(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    if delivered:
        assert status == WebhookDelivery.Status.DELIVERED
        assert receiver.received[0].headers["Host"] == f"hooks.example.com:{port}"
    else:  # A certificate for another name: refused by TLS, nothing sent.
        assert status == WebhookDelivery.Status.PENDING
        assert delivery.last_error == "The request failed (SSLError)."
        assert receiver.received == []
