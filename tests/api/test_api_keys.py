"""API keys managed through the API by owners signed in: made (the key shown once),
listed and revoked with accounts/keys.py; never by a key."""

import base64

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Membership, WorkspaceApiKey
from tests.api.conftest import key_client
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def signed_in(membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


def test_an_owner_makes_a_key_seen_once_that_works_and_revokes_it(owner):
    client = signed_in(owner)
    made = client.post(
        "/api/v1/api-keys/",
        {"workspace": owner.workspace_id, "name": "CRM sync", "scopes": ["read", "write"]},
        format="json",
    )
    assert made.status_code == 201, made.json()
    secret = made.json()["key"]
    prefix = made.json()["prefix"]
    assert secret.startswith(f"{prefix}.")
    listed = client.get("/api/v1/api-keys/").json()["results"]
    assert [(row["prefix"], row["key"]) for row in listed] == [(prefix, None)]
    assert client.get(f"/api/v1/api-keys/{prefix}/").json()["scopes"] == ["read", "write"]
    assert secret not in str(AuditEvent.objects.get(action="api_key.created").data)
    key = APIClient()
    key.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert key.get("/api/v1/posts/").status_code == 200
    assert client.delete(f"/api/v1/api-keys/{prefix}/").status_code == 204
    assert client.delete(f"/api/v1/api-keys/{prefix}/").status_code == 409
    assert key.get("/api/v1/posts/").status_code == 401
    assert client.get(f"/api/v1/api-keys/{prefix}/").json()["revoked"] is True


def test_http_basic_works_as_a_session_does(owner):
    client = APIClient()
    pair = f"{owner.user.username}:correct horse battery staple".encode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {base64.b64encode(pair).decode()}")
    made = client.post(
        "/api/v1/api-keys/",
        {"workspace": owner.workspace_id, "name": "ci", "scopes": ["read"]},
        format="json",
    )
    assert made.status_code == 201, made.json()


def test_no_key_makes_lists_or_revokes_keys_not_even_an_admin_key(owner):
    admin_key = key_client(owner.workspace, "admin", "write", "publish", "read")
    existing = WorkspaceApiKey.objects.get()
    body = {"workspace": owner.workspace_id, "name": "minted", "scopes": ["admin"]}
    made = admin_key.post("/api/v1/api-keys/", body, format="json")
    assert made.status_code == 403 and "never with an API key" in made.json()["detail"]
    assert admin_key.get("/api/v1/api-keys/").status_code == 403
    assert admin_key.delete(f"/api/v1/api-keys/{existing.prefix}/").status_code == 403
    assert WorkspaceApiKey.objects.count() == 1


def test_only_owners_manage_keys_and_only_of_their_workspaces(owner):
    other = MembershipFactory()
    theirs = (
        signed_in(other)
        .post(
            "/api/v1/api-keys/",
            {"workspace": other.workspace_id, "name": "theirs", "scopes": ["read"]},
            format="json",
        )
        .json()
    )
    client = signed_in(owner)
    assert client.get("/api/v1/api-keys/").json()["results"] == []
    assert client.get(f"/api/v1/api-keys/{theirs['prefix']}/").status_code == 404
    assert client.delete(f"/api/v1/api-keys/{theirs['prefix']}/").status_code == 404
    elsewhere = client.post(
        "/api/v1/api-keys/",
        {"workspace": other.workspace_id, "name": "x", "scopes": ["read"]},
        format="json",
    )
    assert elsewhere.status_code == 400 and "workspace" in elsewhere.json()
    editor = MembershipFactory(workspace=owner.workspace, role=Membership.Role.EDITOR)
    refused = signed_in(editor).post(
        "/api/v1/api-keys/",
        {"workspace": owner.workspace_id, "name": "x", "scopes": ["read"]},
        format="json",
    )
    assert refused.status_code == 403
    # An editor owns no workspace: the keys' route is closed to them, not an empty list.
    listed = signed_in(editor).get("/api/v1/api-keys/")
    assert listed.status_code == 403 and "owners" in listed.json()["detail"]


def test_a_key_without_a_name_or_scopes_is_refused_by_field(owner):
    client = signed_in(owner)
    no_scopes = client.post(
        "/api/v1/api-keys/",
        {"workspace": owner.workspace_id, "name": "x", "scopes": []},
        format="json",
    )
    assert no_scopes.status_code == 400 and "scopes" in no_scopes.json()
    unknown = client.post(
        "/api/v1/api-keys/",
        {"workspace": owner.workspace_id, "name": "x", "scopes": ["root"]},
        format="json",
    )
    assert unknown.status_code == 400 and "scopes" in unknown.json()
    blank = client.post(
        "/api/v1/api-keys/",
        {"workspace": owner.workspace_id, "name": "  ", "scopes": ["read"]},
        format="json",
    )
    assert blank.status_code == 400 and "name" in blank.json()
    assert not WorkspaceApiKey.objects.exists()


def test_a_key_expiring_in_the_past_is_refused_by_field(owner):
    answer = signed_in(owner).post(
        "/api/v1/api-keys/",
        {
            "workspace": owner.workspace_id,
            "name": "Old",
            "scopes": ["read"],
            "expires_at": "2020-01-01T09:00:00Z",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "in the future" in answer.json()["expires_at"][0]
    assert not WorkspaceApiKey.objects.exists()
