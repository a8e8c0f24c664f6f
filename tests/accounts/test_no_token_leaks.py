"""No token, access or refresh, ever shows in plaintext: not in the database, the logs
(at DEBUG), the admin, the API, or the errors, through a whole life of an account."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
import requests
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEvent, SocialAccount
from accounts.services import social_account_credentials
from accounts.tasks import x_tokens_refresh_expiring
from fakex.control import fake_x_server
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.x_oauth import CLIENT_ID, CLIENT_SECRET, x_app_configure, x_connect

pytestmark = pytest.mark.django_db


@pytest.fixture
def x(settings, monkeypatch):
    with fake_x_server() as fake_x:
        x_app_configure(fake_x, settings, monkeypatch)
        fake_x.control.create_user(username="kairos_brand", name="Kairos Brand")
        yield fake_x


def test_tokens_never_appear_in_plaintext(x, client, caplog):
    caplog.set_level(logging.DEBUG)
    seen: set[str] = set()

    def remember(account: SocialAccount) -> None:
        account.refresh_from_db()
        tokens = social_account_credentials(account=account)
        seen.update(tokens[name] for name in ("access_token", "refresh_token"))

    workspace = WorkspaceFactory()
    staff = UserFactory(is_superuser=True)
    MembershipFactory(user=staff, workspace=workspace)
    staff.user_permissions.add(Permission.objects.get(codename="add_socialaccount"))
    client.force_login(staff)
    pages = []

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        account = x_connect(client, workspace=workspace)
        remember(account)

        # A job publishes with a token about to expire: refreshed first.
        traveller.shift(timedelta(hours=1, minutes=50))
        post = PostFactory(workspace=workspace, texts=["First post"])
        assert job_execute(job_id=job_for(post, account).pk) == S.PUBLISHED
        remember(account)

        # The periodic refresh.
        traveller.shift(timedelta(hours=1, minutes=50))
        assert x_tokens_refresh_expiring() == 1
        remember(account)

        # Someone spends the refresh token elsewhere: the account waits to be reconnected.
        spent = requests.post(
            f"{x.url}/2/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": social_account_credentials(account=account)["refresh_token"],
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        ).json()
        seen.update([spent["access_token"], spent["refresh_token"]])
        traveller.shift(timedelta(hours=1, minutes=50))
        waiting = job_for(PostFactory(workspace=workspace, texts=["Second post"]), account)
        assert job_execute(job_id=waiting.pk) == S.PENDING
        pages.append(client.get(f"/admin/accounts/socialaccount/{account.pk}/change/"))

        x_connect(client, workspace=workspace)
        remember(account)

        pages += [
            client.get("/admin/accounts/socialaccount/"),
            client.get(f"/admin/accounts/socialaccount/{account.pk}/change/"),
            client.get("/admin/accounts/auditevent/"),
            client.get(f"/admin/publishing/publishjob/{waiting.pk}/change/"),
            client.post(
                "/api/v1/x/connect/", {"workspace": workspace.pk}, content_type="application/json"
            ),
        ]

    assert len(seen) == 10
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert "kairos_brand" in dump.getvalue()
    assert all(page.status_code == 200 for page in pages), [p.status_code for p in pages]
    assert "refreshed the X token" in caplog.text  # the DEBUG-level capture saw the flow
    places = {
        "database": dump.getvalue(),
        "logs": caplog.text + "".join(str(r.args) for r in caplog.records),
        "pages": "".join(page.content.decode() for page in pages),
        "errors": "".join(PublishJob.objects.values_list("error_message", flat=True)),
        "audit": str(list(AuditEvent.objects.values("message", "data"))),
        "repr": repr(account) + str(account),
    }
    for place, text in places.items():
        leaked = [token[:6] for token in seen if token in text]
        assert not leaked, f"tokens starting {leaked} appear in the {place}"


def job_for(post, account) -> PublishJob:
    return PublishJobFactory(post=post, account=account, status=S.QUEUED)
