"""Who may do what in a workspace: one table and one function, used by every face.

A member's role decides; Django's per-model permissions do not (staff status only
lets a person into the admin). Superusers may do everything everywhere. The admin
(accounts/admin.py: WorkspaceScopedAdmin and each action), the API and every form's
choices ask `member_may` or `workspaces_where`; an object of a workspace the caller
may not see is "not found", never "forbidden", and one it sees but may not act on is
"forbidden" (403), never "not found" or "invalid".

    role       what it may do
    viewer     see the workspace: posts, plans, jobs, accounts, audit, metrics
    editor     + compose, schedule and change plans, publish now, retry, cancel
    approver   + approve posts (the team-workflow issue uses it)
    owner      + accounts (connect, pause), members and roles, workspace settings

An API key (accounts/principals.py) is answered by the same function: it sees its
one workspace, for the actions its scopes cover, and never approves (a person does).

    scope      what it may do
    read       see the workspace
    write      compose, schedule and change plans
    publish    publish now, retry, cancel, mark published, delete on the network
    admin      accounts, keys and webhooks, workspace settings
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Membership, Workspace, WorkspaceApiKey
from accounts.principals import ApiKeyPrincipal

Role = Membership.Role

# Actions, named <entity>_<action>.
WORKSPACE_VIEW = "workspace_view"
POST_COMPOSE = "post_compose"  # posts, parts, targets, media, tags, campaigns
POST_SCHEDULE = "post_schedule"  # schedules, occurrences, queue slots, limits, distribution
POST_PUBLISH = "post_publish"  # publish now, retry, cancel, mark published, delete on network
POST_APPROVE = "post_approve"
ACCOUNT_MANAGE = "account_manage"  # add, connect, pause, resume, settle billing
WORKSPACE_MANAGE = "workspace_manage"  # settings, members and roles, pause all publishing

_EDITOR = frozenset({WORKSPACE_VIEW, POST_COMPOSE, POST_SCHEDULE, POST_PUBLISH})
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({WORKSPACE_VIEW}),
    Role.EDITOR: _EDITOR,
    Role.APPROVER: _EDITOR | {POST_APPROVE},
    Role.OWNER: _EDITOR | {POST_APPROVE, ACCOUNT_MANAGE, WORKSPACE_MANAGE},
}
ACTIONS = frozenset().union(*ROLE_ACTIONS.values())

Scope = WorkspaceApiKey.Scope
SCOPE_ACTIONS: dict[str, frozenset[str]] = {
    Scope.READ: frozenset({WORKSPACE_VIEW}),
    Scope.WRITE: frozenset({WORKSPACE_VIEW, POST_COMPOSE, POST_SCHEDULE}),
    Scope.PUBLISH: frozenset({WORKSPACE_VIEW, POST_PUBLISH}),
    Scope.ADMIN: frozenset({WORKSPACE_VIEW, ACCOUNT_MANAGE, WORKSPACE_MANAGE}),
}


def key_may(*, key: WorkspaceApiKey, action: str) -> bool:
    """Whether one of the key's scopes covers `action`."""
    return any(action in SCOPE_ACTIONS.get(scope, ()) for scope in key.scopes)


def key_only_reads(*, key: WorkspaceApiKey) -> bool:
    """Whether the key's scopes allow nothing but seeing its workspace: such a key is
    refused every change before its request is read."""
    return all(SCOPE_ACTIONS.get(scope, frozenset()) <= {WORKSPACE_VIEW} for scope in key.scopes)


def roles_allowed(action: str) -> list[str]:
    """The roles that may do `action`."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}; the actions are {sorted(ACTIONS)}.")
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


def workspaces_where(*, user, action: str) -> QuerySet[Workspace]:
    """The workspaces in which `user` may do `action`: all of them for a superuser."""
    roles = roles_allowed(action)
    if not (user.is_authenticated and user.is_active):
        return Workspace.objects.none()
    if isinstance(user, ApiKeyPrincipal):
        if not key_may(key=user.key, action=action):
            return Workspace.objects.none()
        return Workspace.objects.filter(pk=user.key.workspace_id)
    if user.is_superuser:
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user, memberships__role__in=roles)


def workspace_ids_where(*, user, action: str) -> list[int]:
    """The ids of `workspaces_where`, read now (one query). A list rather than a subquery:
    PostgreSQL then plans a query of their rows for the workspaces it knows (for one, a
    page comes in an index's order and its LIMIT stops the scan), where a subquery makes
    it read every row of them and sort."""
    return list(workspaces_where(user=user, action=action).values_list("pk", flat=True))


def member_may(*, user, workspace: Workspace | int, action: str) -> bool:
    """Whether `user` may do `action` in `workspace` (a workspace or its id)."""
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    return workspaces_where(user=user, action=action).filter(pk=workspace_id).exists()
