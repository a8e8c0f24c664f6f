import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from accounts.models import Membership, SocialAccount, Workspace
from accounts.services import (
    admin_user_ensure,
    demo_workspace_ensure,
    social_account_create_sandbox,
    social_account_pause,
    social_account_resume,
    workspace_create,
    workspace_publishing_pause,
    workspace_publishing_resume,
)
from publishing import dispatch
from publishing.models import JobStatus
from tests.factories import PublishJobFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def test_admin_user_is_made_once_with_a_password_shown_only_then():
    _, password, created = admin_user_ensure(username="admin")
    assert created and len(password) >= 16
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    assert admin_user_ensure(username="admin") == ("admin", None, False)


def test_admin_user_takes_the_password_it_is_given_and_does_not_echo_it():
    _, shown, created = admin_user_ensure(username="ops", password="from-the-environment")
    assert created and shown is None
    assert get_user_model().objects.get(username="ops").check_password("from-the-environment")


def test_a_demo_workspace_appears_only_on_an_empty_database():
    admin_user_ensure(username="admin")
    demo = demo_workspace_ensure()
    account = SocialAccount.objects.get(workspace=demo)
    assert (account.network, account.handle) == ("sandbox", "demo")
    assert demo.memberships.get().role == Membership.Role.OWNER
    assert demo_workspace_ensure() is None
    assert Workspace.objects.count() == 1


def test_workspace_slugs_stay_unique():
    owner = UserFactory()
    first = workspace_create(name="Acme", owner=owner)
    second = workspace_create(name="Acme", owner=owner)
    assert (first.slug, second.slug) == ("acme", "acme-2")


def test_sandbox_accounts_get_their_own_id_and_no_credentials():
    account = social_account_create_sandbox(workspace=WorkspaceFactory(), handle="@brand")
    assert account.handle == "brand"
    assert account.external_id.startswith("sandbox-")
    assert account.credentials == ""
    assert "credentials" not in repr(account)


def test_adding_an_account_in_the_admin_makes_a_sandbox_account(client):
    admin_user_ensure(username="admin", password="pw-for-this-test")
    # Signing in checks the password; django-axes weighs each attempt by its request.
    assert client.login(request=HttpRequest(), username="admin", password="pw-for-this-test")
    workspace = WorkspaceFactory()
    response = client.post(
        "/admin/accounts/socialaccount/add/",
        {"workspace": workspace.pk, "handle": "newsroom", "display_name": "Newsroom"},
    )
    assert response.status_code == 302
    account = SocialAccount.objects.get(handle="newsroom")
    assert account.network == SocialAccount.Network.SANDBOX


def test_pausing_a_workspace_holds_its_jobs_and_resuming_lets_them_go():
    job = PublishJobFactory()
    workspace = job.post.workspace
    assert workspace_publishing_pause(workspace=workspace, actor=None)
    assert not workspace_publishing_pause(workspace=workspace, actor=None)
    dispatch.jobs_dispatch(now=job.due_at, limit=10)
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert workspace_publishing_resume(workspace=workspace, actor=None)
    dispatch.jobs_dispatch(now=job.due_at, limit=10)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_an_account_pauses_and_resumes_once():
    account = social_account_create_sandbox(workspace=WorkspaceFactory(), handle="brand")
    assert social_account_pause(account=account, actor=None)
    assert not social_account_pause(account=account, actor=None)
    account.refresh_from_db()
    assert account.status == SocialAccount.Status.PAUSED
    assert social_account_resume(account=account, actor=None)
