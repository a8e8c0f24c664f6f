"""Workspace API keys: made by an owner, shown once, checked per request, revoked for good.

A key is `<prefix>.<secret>`; Kairos keeps the prefix and a SHA-512 hash of the whole
(djangorestframework-api-key), so a key cannot be read back, only made again. The
check is by prefix, then a constant-time comparison of hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Workspace, WorkspaceApiKey
from accounts.permissions import WORKSPACE_MANAGE, member_may
from accounts.principals import ApiKeyPrincipal, person_of
from accounts.services import audit_record

# Writing last_used_at on every request would make each read a write; once a minute
# says as much to a person looking at the key.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_key_expiry_problem(expires_at: datetime | None) -> str | None:
    """What is wrong with a new key's expiry, for every face that takes one."""
    if expires_at is not None and expires_at <= timezone.now():
        return "Choose a moment in the future, or none for a key that works until revoked."
    return None


def api_key_create(
    *,
    workspace: Workspace,
    name: str,
    scopes: Iterable[str],
    actor,
    expires_at: datetime | None = None,
) -> tuple[WorkspaceApiKey, str]:
    """A new key for `workspace` and, once only, its secret text."""
    if not member_may(user=actor, workspace=workspace, action=WORKSPACE_MANAGE):
        raise ValidationError("Only an owner of the workspace may make its API keys.")
    scopes = sorted(set(scopes))
    unknown = sorted(set(scopes) - set(WorkspaceApiKey.Scope.values))
    if unknown or not scopes:
        raise ValidationError(
            {
                "scopes": f"Choose one or more of {', '.join(WorkspaceApiKey.Scope.values)}"
                + (f"; {', '.join(unknown)} is not a scope." if unknown else ".")
            }
        )
    if not name.strip():
        raise ValidationError({"name": "Name the key after what uses it, e.g. “CRM sync”."})
    if problem := api_key_expiry_problem(expires_at):
        raise ValidationError({"expiry_date": problem})
    with transaction.atomic():
        key, secret = WorkspaceApiKey.objects.create_key(
            workspace=workspace,
            name=name.strip(),
            scopes=scopes,
            expiry_date=expires_at,
            created_by=person_of(actor),
        )
        audit_record(
            workspace=workspace,
            actor=actor,
            action="api_key.created",
            # A key's id (prefix and hash) is longer than an audit subject's; the key is
            # named by its prefix.
            subject=workspace,
            data={"name": key.name, "prefix": key.prefix, "scopes": scopes},
        )
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: WorkspaceApiKey, actor) -> bool:
    """Stop the key working, for good. False when it was already revoked."""
    if not member_may(user=actor, workspace=key.workspace_id, action=WORKSPACE_MANAGE):
        raise ValidationError("Only an owner of the workspace may revoke its API keys.")
    if not WorkspaceApiKey.objects.filter(pk=key.pk, revoked=False).update(revoked=True):
        return False
    audit_record(
        workspace=key.workspace,
        actor=actor,
        action="api_key.revoked",
        subject=key.workspace,
        data={"name": key.name, "prefix": key.prefix},
    )
    return True


def api_key_principal(*, secret: str, now: datetime | None = None) -> ApiKeyPrincipal | None:
    """Who a key's secret text stands for, or None for an unknown, revoked or expired key."""
    now = now or timezone.now()
    try:
        key = WorkspaceApiKey.objects.get_from_key(secret)
    except WorkspaceApiKey.DoesNotExist:
        return None
    if key.has_expired:
        return None
    if key.last_used_at is None or key.last_used_at <= now - LAST_USED_PRECISION:
        WorkspaceApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return ApiKeyPrincipal(key=key)
