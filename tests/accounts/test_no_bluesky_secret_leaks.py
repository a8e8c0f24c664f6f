"""No Bluesky secret (the app password, an access or refresh JWT) ever shows in
plaintext: not in the database, the logs (at DEBUG), the admin, or the errors, through
a whole life of an account."""

import logging
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command

from accounts.models import AuditEvent, SocialAccount
from accounts.services import social_account_credentials
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from publishing.networks.bluesky.session import ACCESS_LIFETIME
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    UserFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


def test_secrets_never_appear_in_plaintext(bsky, client, caplog):
    caplog.set_level(logging.DEBUG)
    brand = bsky.control.create_account(handle="brand.bsky.social")
    seen: set[str] = {brand["app_password"]}

    def remember(account: SocialAccount) -> None:
        account.refresh_from_db()
        credentials = social_account_credentials(account=account)
        seen.update(credentials[name] for name in ("access_jwt", "refresh_jwt"))

    workspace = WorkspaceFactory()
    staff = UserFactory(is_superuser=True)
    MembershipFactory(user=staff, workspace=workspace)
    staff.user_permissions.add(Permission.objects.get(codename="add_socialaccount"))
    client.force_login(staff)
    form = {
        "workspace": workspace.pk,
        "identifier": brand["handle"],
        "app_password": brand["app_password"],
        "pds": bsky.url,
    }
    pages = [client.post("/accounts/connect/bluesky/", {**form, "app_password": "wrong"})]
    client.post("/accounts/connect/bluesky/", form)
    account = SocialAccount.objects.get()
    remember(account)

    # The access JWT lapses on Bluesky: the job renews the session and publishes.
    bsky.control.advance_time(ACCESS_LIFETIME.total_seconds() + 60)
    assert job_execute(job_id=job_for(workspace, account, "First").pk) == S.PUBLISHED
    remember(account)

    # The app password is revoked: the next job waits for the account to be reconnected.
    bsky.control.end_sessions(account.external_id)
    waiting = job_for(workspace, account, "Second")
    assert job_execute(job_id=waiting.pk) == S.PENDING
    client.post("/accounts/connect/bluesky/", form)
    remember(account)

    pages += [
        client.get("/admin/accounts/socialaccount/"),
        client.get(f"/admin/accounts/socialaccount/{account.pk}/change/"),
        client.get("/admin/accounts/auditevent/"),
        client.get(f"/admin/publishing/publishjob/{waiting.pk}/change/"),
    ]
    assert len(seen) == 7
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert "brand.bsky.social" in dump.getvalue()
    assert "renewed the Bluesky session" in caplog.text
    places = {
        "database": dump.getvalue(),
        "logs": caplog.text + "".join(str(r.args) for r in caplog.records),
        "pages": "".join(page.content.decode() for page in pages),
        "errors": "".join(PublishJob.objects.values_list("error_message", flat=True)),
        "audit": str(list(AuditEvent.objects.values("message", "data"))),
        "repr": repr(account) + str(account),
    }
    for place, text in places.items():
        leaked = [secret[:6] for secret in seen if secret in text]
        assert not leaked, f"secrets starting {leaked} appear in the {place}"


def job_for(workspace, account, text) -> PublishJob:
    post = PostFactory(workspace=workspace, texts=[text])
    return PublishJobFactory(post=post, account=account, status=S.QUEUED)
