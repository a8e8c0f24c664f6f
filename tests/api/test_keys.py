"""Workspace API keys: made once by an owner, checked per request, scoped by the one
function every face asks (accounts/permissions.py), throttled, revocable."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.keys import api_key_create, api_key_revoke
from accounts.models import AuditEvent, Membership, WorkspaceApiKey
from accounts.permissions import (
    ACCOUNT_MANAGE,
    POST_APPROVE,
    POST_COMPOSE,
    POST_PUBLISH,
    POST_SCHEDULE,
    WORKSPACE_MANAGE,
    WORKSPACE_VIEW,
    workspaces_where,
)
from accounts.principals import ApiKeyPrincipal
from tests.api.conftest import key_client
from tests.factories import MembershipFactory, SandboxAccountFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def make_key(owner, *scopes):
    return api_key_create(workspace=owner.workspace, name="crm", scopes=scopes, actor=owner.user)


def test_only_a_hash_of_the_key_is_kept_and_its_making_is_audited(owner):
    key, secret = make_key(owner, "read")
    stored = WorkspaceApiKey.objects.filter(pk=key.pk).values().get()
    assert secret not in str(stored)
    assert secret.startswith(f"{key.prefix}.")
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.actor == owner.user
    assert event.data["scopes"] == ["read"]
    assert secret not in str(event.data)


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        (["read"], {WORKSPACE_VIEW}),
        (["write"], {WORKSPACE_VIEW, POST_COMPOSE, POST_SCHEDULE}),
        (["publish"], {WORKSPACE_VIEW, POST_PUBLISH}),
        (["admin"], {WORKSPACE_VIEW, ACCOUNT_MANAGE, WORKSPACE_MANAGE}),
        (["write", "publish"], {WORKSPACE_VIEW, POST_COMPOSE, POST_SCHEDULE, POST_PUBLISH}),
    ],
)
def test_a_key_sees_its_one_workspace_for_the_actions_of_its_scopes(owner, scopes, allowed):
    WorkspaceFactory()
    key, _ = make_key(owner, *scopes)
    principal = ApiKeyPrincipal(key=key)
    for action in (
        WORKSPACE_VIEW,
        POST_COMPOSE,
        POST_SCHEDULE,
        POST_PUBLISH,
        POST_APPROVE,
        ACCOUNT_MANAGE,
        WORKSPACE_MANAGE,
    ):
        expected = [owner.workspace] if action in allowed else []
        assert list(workspaces_where(user=principal, action=action)) == expected, action


def test_only_owners_make_and_revoke_keys_with_known_scopes(owner):
    editor = MembershipFactory(workspace=owner.workspace, role=Membership.Role.EDITOR)
    with pytest.raises(ValidationError, match="Only an owner"):
        make_key(editor, "read")
    with pytest.raises(ValidationError, match="not a scope"):
        make_key(owner, "read", "everything")
    key, _ = make_key(owner, "read")
    with pytest.raises(ValidationError, match="Only an owner"):
        api_key_revoke(key=key, actor=editor.user)


def test_a_key_answers_for_its_workspace_and_is_unknown_once_revoked(owner):
    key, secret = make_key(owner, "read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert client.get("/api/v1/schedules/").status_code == 200
    assert api_key_revoke(key=key, actor=owner.user)
    answer = client.get("/api/v1/schedules/")
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Api-Key"
    assert "revoked" in answer.json()["detail"]
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_a_wrong_or_expired_key_is_refused(owner):
    key, secret = make_key(owner, "read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}x")
    assert client.get("/api/v1/schedules/").status_code == 401
    WorkspaceApiKey.objects.filter(pk=key.pk).update(
        expiry_date=timezone.now() - timedelta(seconds=1)
    )
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert client.get("/api/v1/schedules/").status_code == 401


def test_last_used_is_kept_to_the_minute(owner):
    key, secret = make_key(owner, "read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/api/v1/schedules/")
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get("/api/v1/schedules/")
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        client.get("/api/v1/schedules/")
    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(minutes=2)


def test_what_a_key_does_is_audited_under_the_key(owner):
    account = SandboxAccountFactory(workspace=owner.workspace)
    client = key_client(owner.workspace, "read")
    principal_key = WorkspaceApiKey.objects.get(workspace=owner.workspace)
    from accounts.services import social_account_pause

    social_account_pause(account=account, actor=ApiKeyPrincipal(key=principal_key))
    event = AuditEvent.objects.get(action="account.paused")
    assert event.actor is None
    assert event.data["api_key"] == {"prefix": principal_key.prefix, "name": "integration"}
    assert client.get("/api/v1/schedules/").status_code == 200


def test_people_need_staff_access_and_see_only_their_workspaces():
    member = MembershipFactory(user=UserFactory(is_staff=False))
    client = APIClient()
    client.force_login(member.user)
    answer = client.get("/api/v1/schedules/")
    assert answer.status_code == 403
    assert "Api-Key" in answer.json()["detail"]
    staff = MembershipFactory(user=UserFactory(is_staff=True))
    client.force_login(staff.user)
    assert client.get("/api/v1/schedules/").status_code == 200
    assert APIClient().get("/api/v1/schedules/").status_code == 401


def test_each_key_and_person_has_its_own_throttle(owner, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"principal": "3/min"},
    }
    first = key_client(owner.workspace, "read")
    second = key_client(owner.workspace, "read")
    from rest_framework.settings import api_settings

    api_settings.reload()
    from config.api_auth import PrincipalRateThrottle

    PrincipalRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        answers = [first.get("/api/v1/schedules/").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        refused = first.get("/api/v1/schedules/")
        assert int(refused["Retry-After"]) > 0
        assert second.get("/api/v1/schedules/").status_code == 200
    finally:
        PrincipalRateThrottle.THROTTLE_RATES = {"principal": "600/min"}


def test_wrong_basic_passwords_lock_the_name_out_for_a_while(settings):
    settings.AXES_FAILURE_LIMIT = 3
    staff = MembershipFactory().user
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic(staff.username, "wrong"))
    answers = [client.get("/api/v1/schedules/").status_code for _ in range(3)]
    assert answers == [401, 401, 429]
    client.credentials(HTTP_AUTHORIZATION=_basic(staff.username, "correct horse battery staple"))
    locked = client.get("/api/v1/schedules/")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60


def test_wrong_admin_passwords_lock_the_name_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    staff = MembershipFactory().user
    for _ in range(3):
        client.post("/admin/login/", {"username": staff.username, "password": "wrong"})
    answer = client.post(
        "/admin/login/",
        {"username": staff.username, "password": "correct horse battery staple"},
    )
    assert answer.status_code == 429
    assert "_auth_user_id" not in client.session


def _basic(username: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_an_owner_makes_a_key_in_the_admin_and_sees_it_once(client, owner):
    client.force_login(owner.user)
    answer = client.post(
        "/admin/accounts/workspaceapikey/add/",
        {"workspace": owner.workspace.pk, "name": "CRM sync", "scopes": ["read", "write"]},
        follow=True,
    )
    key = WorkspaceApiKey.objects.get()
    assert key.scopes == ["read", "write"]
    assert key.created_by == owner.user
    shown = [str(message) for message in answer.context["messages"]]
    secret = next(text for text in shown if "shown this once" in text).rsplit(" ", 1)[1]
    assert WorkspaceApiKey.objects.is_valid(secret)
    page = client.get(f"/admin/accounts/workspaceapikey/{key.pk}/change/")
    assert secret not in page.content.decode()
    client.post(
        "/admin/accounts/workspaceapikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert key.revoked


def test_editors_make_no_keys_and_owners_none_for_another_workspace(client, owner):
    editor = MembershipFactory(workspace=owner.workspace, role=Membership.Role.EDITOR)
    client.force_login(editor.user)
    assert client.get("/admin/accounts/workspaceapikey/add/").status_code == 403
    other = MembershipFactory()
    client.force_login(owner.user)
    client.post(
        "/admin/accounts/workspaceapikey/add/",
        {"workspace": other.workspace.pk, "name": "theirs", "scopes": ["read"]},
    )
    assert not WorkspaceApiKey.objects.exists()


def test_a_key_expiring_in_the_past_is_refused_on_the_form_by_field(client, owner):
    client.force_login(owner.user)
    answer = client.post(
        "/admin/accounts/workspaceapikey/add/",
        {
            "workspace": owner.workspace.pk,
            "name": "Old",
            "scopes": ["read"],
            "expiry_date_0": "2020-01-01",
            "expiry_date_1": "09:00:00",
        },
    )
    assert answer.status_code == 200
    assert "Choose a moment in the future" in str(answer.context["adminform"].form.errors)
    assert not WorkspaceApiKey.objects.exists()
