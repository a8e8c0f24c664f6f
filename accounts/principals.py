"""Who is calling: a person (Django's user) or an API key of one workspace.

A key's request carries an `ApiKeyPrincipal` as `request.user`, so that every face
asks the same `accounts.permissions.workspaces_where(user=..., action=...)` whether
the caller is a person or a key. A principal is never a row: where a service keeps
who did something in a foreign key (a post's author, an audit event's actor),
`person_of` gives the person or nobody, and the audit trail names the key instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import WorkspaceApiKey


@dataclass(frozen=True, eq=False)
class ApiKeyPrincipal:
    """An API key acting: signed in, never a superuser, never staff, one workspace."""

    key: WorkspaceApiKey
    is_authenticated: bool = field(default=True, init=False)
    is_anonymous: bool = field(default=False, init=False)
    is_active: bool = field(default=True, init=False)
    is_superuser: bool = field(default=False, init=False)
    is_staff: bool = field(default=False, init=False)

    @property
    def pk(self) -> str:
        return f"key:{self.key.prefix}"

    @property
    def workspace_id(self) -> int:
        return self.key.workspace_id

    def __str__(self) -> str:
        return f"API key {self.key}"


def person_of(actor) -> AbstractBaseUser | None:
    """The person behind `actor`, for a foreign key: nobody for a key or an anonymous one."""
    if isinstance(actor, AbstractBaseUser) and actor.is_authenticated:
        return actor
    return None


def actor_description(actor) -> dict:
    """What the audit trail keeps of an actor that is not a person (an API key)."""
    if isinstance(actor, ApiKeyPrincipal):
        return {"api_key": {"prefix": actor.key.prefix, "name": actor.key.name}}
    return {}
