from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.crypto import (
    CredentialsUnreadable,
    credentials_decrypt,
    credentials_encrypt,
    credentials_rotate,
)
from accounts.events import event_type_of, events_announce
from accounts.models import (
    AuditEvent,
    FollowerCount,
    Membership,
    NetworkApp,
    SocialAccount,
    WebhookEndpoint,
    Workspace,
)
from accounts.principals import actor_description, person_of


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
    event = AuditEvent.objects.create(
        workspace=workspace,
        actor=person_of(actor),
        action=action,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=str(subject.pk),
        from_status=from_status,
        to_status=to_status,
        message=message,
        data={**(data or {}), **actor_description(actor)},
    )
    if event_type_of(action=action, to_status=to_status):
        events_announce()
    return event


def webhook_secret_new() -> tuple[str, str]:
    """A new Standard Webhooks signing secret: (the secret, shown once; what to store)."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secret, credentials_encrypt({"secret": secret})


def webhook_secret_read(stored: str) -> str:
    """The signing secret of an endpoint, for the one function that signs with it."""
    return credentials_decrypt(stored)["secret"]


def audit_records_add(events: list[AuditEvent]) -> None:
    """Add many audit rows made by the caller in one statement (a batch of outcomes)."""
    AuditEvent.objects.bulk_create(events)
    if any(event_type_of(action=e.action, to_status=e.to_status) for e in events):
        events_announce()


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


OWNER_KEPT = (
    "A workspace keeps at least one owner: make another member owner first, then change "
    "or remove this one."
)


def memberships_owner_problem(*, roles_before: Iterable[str], roles_after: Iterable[str]) -> str:
    """Why members with `roles_after` would leave a workspace without the owner it had
    (no one could then manage its members, accounts or settings), or ""."""
    owner = Membership.Role.OWNER
    return OWNER_KEPT if owner in roles_before and owner not in roles_after else ""


@transaction.atomic
def memberships_apply(
    *,
    workspace: Workspace,
    added: Iterable[Membership],
    changed: Iterable[Membership],
    removed: Iterable[Membership],
    actor: AbstractBaseUser,
) -> None:
    """Add members, change their roles and remove members of `workspace`, as one change,
    each audited. Refused (ValidationError) where it would remove the last owner; the
    workspace's memberships are locked, so two owners demoting each other at once cannot
    both succeed."""
    added, changed, removed = list(added), list(changed), list(removed)
    before = dict(
        Membership.objects.select_for_update()
        .filter(workspace=workspace)
        .order_by("pk")
        .values_list("pk", "role")
    )
    after = {**before, **{member.pk: member.role for member in changed}}
    for member in removed:
        after.pop(member.pk, None)
    roles_after = [*after.values(), *(member.role for member in added)]
    if problem := memberships_owner_problem(roles_before=before.values(), roles_after=roles_after):
        raise ValidationError(problem)
    for member in added:
        member.workspace = workspace
        member.save()
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.added",
            subject=member,
            data={"user": member.user.get_username(), "role": member.role},
        )
    for member in changed:
        if before.get(member.pk) == member.role:
            continue
        member.save(update_fields=["role"])
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.role_changed",
            subject=member,
            from_status=before.get(member.pk, ""),
            to_status=member.role,
            data={"user": member.user.get_username()},
        )
    for member in removed:
        audit_record(
            workspace=workspace,
            actor=actor,
            action="membership.removed",
            subject=member,
            from_status=before.get(member.pk, ""),
            data={"user": member.user.get_username()},
        )
        member.delete()


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
    """The account's network credentials (tokens), decrypted. Never log or display them."""
    return credentials_decrypt(account.credentials) if account.credentials else {}


def social_account_credentials_save(
    *, account: SocialAccount, credentials: dict, expires_at: datetime | None
) -> None:
    """Store new credentials, encrypted, with when the access token stops working.

    A caller replacing a rotating pair holds the account's row lock (see
    publishing/stores.py), so two writers never lose each other's tokens.
    """
    encrypted = credentials_encrypt(credentials)
    SocialAccount.objects.filter(pk=account.pk).update(
        credentials=encrypted, token_expires_at=expires_at, updated_at=timezone.now()
    )
    account.credentials, account.token_expires_at = encrypted, expires_at


def social_accounts_credentials_rotate(*, batch_size: int = 200) -> Iterator[tuple[int, int]]:
    """Encrypt every account's credentials afresh with the first key, batch by batch,
    yielding (done, total) after each batch. Safe to run again after an interruption.

    Locking rule: each batch is one transaction holding its rows (SELECT … FOR UPDATE),
    and each row is rewritten from what was read under that lock. A token refresh holds
    the same row lock while it exchanges and saves a rotated pair, so neither overwrites
    the other; without it, this could write back a pair X had already replaced, and the
    account would need reconnecting. Workers keep running: all keys still decrypt.
    """
    ids = list(
        SocialAccount.objects.exclude(credentials="").order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            batch = (
                SocialAccount.objects.select_for_update()
                .filter(pk__in=ids[start : start + batch_size])
                .exclude(credentials="")
                .only("pk", "credentials")
            )
            for account in batch:
                try:
                    rotated = credentials_rotate(account.credentials)
                except CredentialsUnreadable as exc:
                    raise CredentialsUnreadable(f"Account {account.pk}: {exc}") from None
                SocialAccount.objects.filter(pk=account.pk).update(credentials=rotated)
        yield min(start + batch_size, len(ids)), len(ids)


# The other columns encrypted with the credentials keys: (model, column, what a row is).
SECRET_COLUMNS = (
    (WebhookEndpoint, "secret", "Webhook endpoint"),
    (NetworkApp, "client_secret", "App"),
)


def stored_secrets_rotate() -> dict[str, int]:
    """Encrypt every webhook endpoint's signing secret and every network app's client
    secret afresh with the first key; return how many of each. Rows are rewritten only
    if unchanged since read (one made anew keeps its own)."""
    rotated = {}
    for model, column, what in SECRET_COLUMNS:
        rotated[what] = 0
        for pk, stored in model.objects.values_list("pk", column).iterator():
            try:
                fresh = credentials_rotate(stored)
            except CredentialsUnreadable as exc:
                raise CredentialsUnreadable(f"{what} {pk}: {exc}") from None
            rotated[what] += model.objects.filter(pk=pk, **{column: stored}).update(
                **{column: fresh}
            )
    return rotated


@transaction.atomic
def social_account_connect(
    *,
    workspace: Workspace,
    network: str,
    external_id: str,
    handle: str,
    credentials: dict,
    expires_at: datetime | None = None,
    display_name: str = "",
    avatar_url: str = "",
    followers_count: int | None = None,
    subscription_type: str = "",
    actor: AbstractBaseUser | None = None,
) -> SocialAccount:
    """Store a network account with its credentials and profile, or bring a known one up
    to date.

    Reconnecting an account that was waiting to be reconnected makes it active, so
    the jobs it held go out; a paused or disabled account stays as staff left it.
    """
    # The row lock is the one a token refresh takes: a refresh in flight either
    # finishes first (and its pair is replaced here) or waits and then sees these tokens.
    account = (
        SocialAccount.objects.select_for_update()
        .filter(workspace=workspace, network=network, external_id=external_id)
        .first()
    )
    created = account is None
    if created:
        account = SocialAccount(workspace=workspace, network=network, external_id=external_id)
    from_status = "" if created else account.status
    if created or account.status == SocialAccount.Status.NEEDS_REAUTH:
        account.status = SocialAccount.Status.ACTIVE
    account.credentials = credentials_encrypt(credentials)
    account.token_expires_at = expires_at
    for name, value in _profile_fields(
        handle=handle,
        display_name=display_name,
        avatar_url=avatar_url,
        followers_count=followers_count,
        subscription_type=subscription_type,
    ).items():
        setattr(account, name, value)
    account.save()
    _followers_record(account=account, followers=followers_count)
    moved = from_status != account.status
    audit_record(
        workspace=workspace,
        actor=actor,
        action="account.connected" if created else "account.reconnected",
        subject=account,
        from_status=from_status if moved else "",
        to_status=account.status if moved else "",
    )
    return account


def social_account_profile_save(
    *,
    account: SocialAccount,
    handle: str,
    display_name: str,
    avatar_url: str,
    followers_count: int | None,
    subscription_type: str,
) -> None:
    """Cache what the network says about the account (trusted for a day: PROFILE_MAX_AGE)."""
    fields = _profile_fields(
        handle=handle,
        display_name=display_name,
        avatar_url=avatar_url,
        followers_count=followers_count,
        subscription_type=subscription_type,
    )
    SocialAccount.objects.filter(pk=account.pk).update(**fields, updated_at=timezone.now())
    for name, value in fields.items():
        setattr(account, name, value)
    _followers_record(account=account, followers=followers_count)


def _followers_record(*, account: SocialAccount, followers: int | None) -> None:
    """Keep the count the network just gave in the account's follower history."""
    if followers is not None:
        FollowerCount.objects.create(
            account=account, recorded_at=timezone.now(), followers=followers
        )


def _profile_fields(
    *,
    handle: str,
    display_name: str,
    avatar_url: str,
    followers_count: int | None,
    subscription_type: str,
) -> dict:
    return {
        "handle": handle.lstrip("@"),
        "display_name": display_name or handle.lstrip("@"),
        "avatar_url": avatar_url,
        "followers_count": followers_count,
        "subscription_type": subscription_type,
        "profile_refreshed_at": timezone.now(),
    }


def social_account_needs_reauth(*, account: SocialAccount, reason: str) -> bool:
    """The network refused the account's credentials for good: its jobs wait, pending,
    until staff reconnect it (dispatch holds the jobs of accounts that are not active)."""
    from_status = account.status
    if from_status not in (SocialAccount.Status.ACTIVE, SocialAccount.Status.PAUSED):
        return False
    with transaction.atomic():
        moved = SocialAccount.objects.filter(pk=account.pk, status=from_status).update(
            status=SocialAccount.Status.NEEDS_REAUTH, updated_at=timezone.now()
        )
        if moved:
            account.status = SocialAccount.Status.NEEDS_REAUTH
            audit_record(
                workspace=account.workspace,
                actor=None,
                action="account.needs_reauth",
                subject=account,
                from_status=from_status,
                to_status=account.status,
                message=reason,
            )
    return bool(moved)


def social_account_billing_flag(*, account: SocialAccount, message: str) -> bool:
    """Note that the network refused for billing, for staff to see and settle."""
    with transaction.atomic():
        flagged = (
            SocialAccount.objects.filter(pk=account.pk)
            .exclude(billing_problem=message)
            .update(billing_problem=message, updated_at=timezone.now())
        )
        if flagged:
            audit_record(
                workspace=account.workspace,
                actor=None,
                action="account.billing_problem",
                subject=account,
                message=message,
            )
    account.billing_problem = message
    return bool(flagged)


def social_account_billing_clear(*, account: SocialAccount, actor: AbstractBaseUser) -> bool:
    with transaction.atomic():
        cleared = (
            SocialAccount.objects.filter(pk=account.pk)
            .exclude(billing_problem="")
            .update(billing_problem="", updated_at=timezone.now())
        )
        if cleared:
            audit_record(
                workspace=account.workspace,
                actor=actor,
                action="account.billing_cleared",
                subject=account,
            )
    account.billing_problem = ""
    return bool(cleared)


# --- Kairos's apps on a network's servers ------------------------------------------------


def network_app_keys(*, network: str, server: str) -> tuple[str, str] | None:
    """(client id, client secret) of Kairos's app kept for `server`; None when there is
    none, or when its secret no longer decrypts (its key was retired): registering
    again is then the way back."""
    app = NetworkApp.objects.filter(network=network, server=server).first()
    return None if app is None else _network_app_readable(app)


def network_app_keep(
    *, network: str, server: str, client_id: str, client_secret: str
) -> tuple[str, str]:
    """Keep the app just registered on `server` and return the keys to use there.

    Two people connecting the first accounts of an instance at once both register:
    the first kept wins and both use it; the other app stays unused on the instance.
    A kept app whose secret no longer decrypts is replaced.
    """
    with transaction.atomic():
        app, created = NetworkApp.objects.select_for_update().get_or_create(
            network=network,
            server=server,
            defaults={
                "client_id": client_id,
                "client_secret": credentials_encrypt({"client_secret": client_secret}),
            },
        )
        kept = None if created else _network_app_readable(app)
        if kept is not None:
            return kept
        if not created:
            app.client_id = client_id
            app.client_secret = credentials_encrypt({"client_secret": client_secret})
            app.save(update_fields=["client_id", "client_secret"])
    return client_id, client_secret


def _network_app_readable(app: NetworkApp) -> tuple[str, str] | None:
    try:
        return app.client_id, credentials_decrypt(app.client_secret)["client_secret"]
    except (CredentialsUnreadable, KeyError):
        return None


# --- OAuth sign-in state ----------------------------------------------------------------
#
# Between sending a person to the network and their coming back, Kairos keeps the
# sign-in's PKCE verifier, who started it and for which workspace, in the cache
# (the database cache: any web process may answer the callback). `state` names that
# entry, signed and timestamped, so a callback tells apart an altered state, an
# expired one and one already used.

OAUTH_STATE_LIFETIME = timedelta(minutes=10)
_OAUTH_STATE_SALT = "accounts.oauth-state"


class OAuthStateRefused(Exception):
    """The callback's state does not belong to a sign-in that may finish; says why."""


@dataclass(frozen=True)
class OAuthSignIn:
    network: str
    user_id: int
    workspace_id: int
    code_verifier: str = field(repr=False)


def oauth_state_issue(
    *, network: str, user: AbstractBaseUser, workspace: Workspace, code_verifier: str
) -> str:
    """Remember a sign-in for OAUTH_STATE_LIFETIME; return the `state` that names it."""
    nonce = secrets.token_urlsafe(32)
    cache.set(
        _oauth_state_key(nonce),
        {
            "network": network,
            "user_id": user.pk,
            "workspace_id": workspace.pk,
            "code_verifier": code_verifier,
        },
        timeout=OAUTH_STATE_LIFETIME.total_seconds(),
    )
    return signing.TimestampSigner(salt=_OAUTH_STATE_SALT).sign(nonce)


def oauth_state_redeem(*, state: str, network: str, user: AbstractBaseUser) -> OAuthSignIn:
    """The sign-in `state` names, handed out once, and only to the person who started it."""
    again = "Start connecting the account again from the social accounts page."
    try:
        nonce = signing.TimestampSigner(salt=_OAUTH_STATE_SALT).unsign(
            state, max_age=OAUTH_STATE_LIFETIME
        )
    except signing.SignatureExpired:
        raise OAuthStateRefused(
            f"This sign-in took longer than {OAUTH_STATE_LIFETIME.seconds // 60} minutes and "
            f"has expired. {again}"
        ) from None
    except signing.BadSignature:
        raise OAuthStateRefused(
            "The answer from the network does not match a sign-in started here (its state "
            f"was altered). Nothing was connected. {again}"
        ) from None
    key = _oauth_state_key(nonce)
    sign_in = cache.get(key)
    # delete() says whether this call removed the entry: of two callbacks racing with
    # the same state, exactly one goes on.
    if sign_in is None or not cache.delete(key):
        raise OAuthStateRefused(
            f"This sign-in was already used (or has expired). Nothing more was connected. {again}"
        )
    if sign_in["user_id"] != user.pk or sign_in["network"] != network:
        raise OAuthStateRefused(
            "This sign-in was started by another Kairos user, so it cannot finish in your "
            f"session. Nothing was connected. {again}"
        )
    return OAuthSignIn(**sign_in)


def _oauth_state_key(nonce: str) -> str:
    return f"oauth-state:{nonce}"


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
