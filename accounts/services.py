from __future__ import annotations

import json
import secrets
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AuditEvent, Membership, SocialAccount, Workspace


def audit_record(
    *,
    workspace: Workspace | None,
    actor: AbstractBaseUser | None,
    action: str,
    subject: models.Model,
    from_status: str = "",
    to_status: str = "",
    message: str = "",
    data: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        workspace=workspace,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=str(subject.pk),
        from_status=from_status,
        to_status=to_status,
        message=message,
        data=data or {},
    )


@transaction.atomic
def workspace_create(
    *, name: str, owner: AbstractBaseUser | None, default_timezone: str = "UTC"
) -> Workspace:
    workspace = Workspace(name=name, slug=_unique_slug(name), default_timezone=default_timezone)
    workspace.full_clean()
    workspace.save()
    if owner is not None:
        membership_ensure(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    audit_record(workspace=workspace, actor=owner, action="workspace.created", subject=workspace)
    return workspace


def membership_ensure(*, workspace: Workspace, user, role: str) -> Membership:
    membership, created = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    if created:
        audit_record(
            workspace=workspace,
            actor=user,
            action="membership.added",
            subject=membership,
            data={"role": role},
        )
    return membership


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def social_account_create_sandbox(
    *, workspace: Workspace, handle: str, display_name: str = "", actor=None
) -> SocialAccount:
    """A sandbox account: publishes into Kairos itself, needs no credentials."""
    account = SocialAccount(
        workspace=workspace,
        network=SocialAccount.Network.SANDBOX,
        handle=handle.lstrip("@"),
        external_id=f"sandbox-{uuid.uuid4().hex[:12]}",
        display_name=display_name or handle.lstrip("@"),
    )
    account.full_clean()
    account.save()
    audit_record(workspace=workspace, actor=actor, action="account.added", subject=account)
    return account


def admin_user_ensure(
    *, username: str, email: str = "", password: str | None = None
) -> tuple[str, str | None, bool]:
    """Make sure a superuser called `username` exists; never touch an existing one.

    Returns (username, the password it was created with or None, created). A
    password is made up when none is given, so the caller can show it once.
    """
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return username, None, False
    made_up = password is None
    password = password or secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email=email, password=password)
    return username, (password if made_up else None), True


@transaction.atomic
def demo_workspace_ensure() -> Workspace | None:
    """On an empty database: a demo workspace with a sandbox account, so the admin
    has something to publish to at once. Returns it, or None when there was data."""
    if Workspace.objects.exists():
        return None
    owners = get_user_model().objects.filter(is_superuser=True)
    workspace = workspace_create(name="Demo", owner=owners.first())
    social_account_create_sandbox(workspace=workspace, handle="demo", display_name="Kairos Demo")
    return workspace


def social_account_credentials(*, account: SocialAccount) -> dict:
    """The account's network credentials (tokens). Never log or display them."""
    return json.loads(account.credentials) if account.credentials else {}


@transaction.atomic
def social_account_connect_x(
    *,
    workspace: Workspace,
    external_id: str,
    handle: str,
    access_token: str,
    refresh_token: str = "",
    display_name: str = "",
    actor=None,
) -> SocialAccount:
    """Store (or update) an X account and its user access token."""
    account, created = SocialAccount.objects.update_or_create(
        workspace=workspace,
        network=SocialAccount.Network.X,
        external_id=external_id,
        defaults={
            "handle": handle.lstrip("@"),
            "display_name": display_name or handle.lstrip("@"),
            "status": SocialAccount.Status.ACTIVE,
            "credentials": json.dumps(
                {"access_token": access_token, "refresh_token": refresh_token}
            ),
        },
    )
    audit_record(
        workspace=workspace,
        actor=actor,
        action="account.connected" if created else "account.reconnected",
        subject=account,
    )
    return account


def workspace_publishing_pause(*, workspace: Workspace, actor, now=None) -> bool:
    """Hold everything of the workspace (a crisis): due jobs wait, nothing new goes out."""
    now = now or timezone.now()
    with transaction.atomic():
        paused = Workspace.objects.filter(pk=workspace.pk, publishing_paused_at=None).update(
            publishing_paused_at=now
        )
        if paused:
            audit_record(
                workspace=workspace, actor=actor, action="workspace.paused", subject=workspace
            )
    return bool(paused)


def workspace_publishing_resume(*, workspace: Workspace, actor) -> bool:
    """Let held jobs go; those now past the missed-post window become missed, not late."""
    with transaction.atomic():
        resumed = Workspace.objects.filter(
            pk=workspace.pk, publishing_paused_at__isnull=False
        ).update(publishing_paused_at=None)
        if resumed:
            audit_record(
                workspace=workspace, actor=actor, action="workspace.resumed", subject=workspace
            )
    return bool(resumed)


def social_account_pause(*, account: SocialAccount, actor) -> bool:
    return _account_status_move(
        account=account,
        actor=actor,
        from_status=SocialAccount.Status.ACTIVE,
        to_status=SocialAccount.Status.PAUSED,
    )


def social_account_resume(*, account: SocialAccount, actor) -> bool:
    return _account_status_move(
        account=account,
        actor=actor,
        from_status=SocialAccount.Status.PAUSED,
        to_status=SocialAccount.Status.ACTIVE,
    )


def _account_status_move(*, account: SocialAccount, actor, from_status, to_status) -> bool:
    with transaction.atomic():
        moved = SocialAccount.objects.filter(pk=account.pk, status=from_status).update(
            status=to_status, updated_at=timezone.now()
        )
        if moved:
            audit_record(
                workspace=account.workspace,
                actor=actor,
                action=f"account.{to_status}",
                subject=account,
                from_status=from_status,
                to_status=to_status,
            )
    return bool(moved)
