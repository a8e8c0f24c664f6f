import pytest
from django.test import Client

from accounts.models import Membership, Notification, WebhookDelivery, WebhookEndpoint
from accounts.services import audit_record
from publishing.events import events_fan_out
from tests.factories import MembershipFactory, PostFactory, PublishJobFactory

pytestmark = pytest.mark.django_db
R = Membership.Role


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_an_owner_adds_an_endpoint_and_the_secret_is_shown_on_that_page_only():
    owner = MembershipFactory(role=R.OWNER)
    client = signed_in(owner)
    answer = client.post(
        "/admin/accounts/webhookendpoint/add/",
        {
            "workspace": owner.workspace.pk,
            "url": "https://hooks.example.com/k",
            "description": "CRM",
            "events": ["post.published"],
            "active": "on",
        },
    )
    assert answer.status_code == 200, answer.content[:2000]
    secret = answer.context["secret"]
    assert secret.startswith("whsec_") and secret in answer.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["post.published"]
    page = client.get(f"/admin/accounts/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert secret not in page
    assert secret not in client.get("/admin/accounts/webhookendpoint/").content.decode()
    assert not any(secret in str(m) for m in client.get("/admin/").context["messages"])


def test_editors_do_not_see_endpoints_or_their_deliveries():
    owner = MembershipFactory(role=R.OWNER)
    WebhookEndpoint.objects.create(
        workspace=owner.workspace, url="https://h.example.com/", secret="x"
    )
    editor = signed_in(MembershipFactory(workspace=owner.workspace, role=R.EDITOR))
    assert editor.get("/admin/accounts/webhookendpoint/").status_code == 403
    assert editor.get("/admin/accounts/webhookdelivery/").status_code == 403


def test_the_delivery_log_sends_again():
    owner = MembershipFactory(role=R.OWNER)
    WebhookEndpoint.objects.create(
        workspace=owner.workspace, url="https://h.example.com/", secret="x"
    )
    post = PostFactory(workspace=owner.workspace)
    audit_record(workspace=owner.workspace, actor=None, action="post.scheduled", subject=post)
    events_fan_out()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", response_code=500)
    client = signed_in(owner)
    log = client.get("/admin/accounts/webhookdelivery/").content.decode()
    assert f"evt_{delivery.event_id}" in log and "500" in log
    client.post(
        "/admin/accounts/webhookdelivery/",
        {"action": "send_again", "_selected_action": [delivery.pk]},
    )
    assert WebhookDelivery.objects.get().status == "pending"


def test_the_header_counts_unread_notifications_and_opening_one_reads_it():
    editor = MembershipFactory(role=R.EDITOR)
    job = PublishJobFactory(post__workspace=editor.workspace)
    audit_record(
        workspace=editor.workspace,
        actor=None,
        action="job.missed",
        subject=job,
        to_status="missed",
    )
    events_fan_out()
    client = signed_in(editor)
    index = client.get("/admin/").content.decode()
    assert "(1 unread)" in index
    [notice] = Notification.objects.filter(recipient=editor.user)
    listing = client.get("/admin/accounts/notification/").content.decode()
    assert f"/admin/accounts/notification/{notice.pk}/open/" in listing
    opened = client.get(f"/admin/accounts/notification/{notice.pk}/open/")
    assert opened.status_code == 302
    assert opened["Location"] == f"/admin/publishing/publishjob/{job.pk}/change/"
    assert "unread)" not in client.get("/admin/").content.decode()
    # Someone else's notification is not found.
    other = signed_in(MembershipFactory(workspace=editor.workspace, role=R.EDITOR))
    assert other.get(f"/admin/accounts/notification/{notice.pk}/open/").status_code == 404


def test_a_member_switches_a_kind_off():
    editor = MembershipFactory(role=R.EDITOR)
    client = signed_in(editor)
    answer = client.post(
        "/admin/accounts/notificationpreference/add/", {"kind": "job.missed", "by_email": "on"}
    )
    assert answer.status_code == 302
    preference = editor.user.notification_preferences.get()
    assert (preference.kind, preference.in_admin, preference.by_email) == (
        "job.missed",
        False,
        True,
    )
