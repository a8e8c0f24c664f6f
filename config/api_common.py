"""What every API view shares: refusing what a role or key may not do, paging, conflicts,
and the fields and filters whose OpenAPI type DRF's own would not keep to."""

import re
from collections.abc import Iterable

from django.db.models import Model
from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, permissions, serializers, status
from rest_framework.exceptions import APIException, PermissionDenied

from accounts.permissions import (
    ACCOUNT_MANAGE,
    POST_APPROVE,
    POST_COMPOSE,
    POST_PUBLISH,
    POST_SCHEDULE,
    WORKSPACE_MANAGE,
    WORKSPACE_VIEW,
    member_may,
    workspaces_where,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


ROLE_REFUSALS = {
    POST_COMPOSE: "compose or change posts",
    POST_SCHEDULE: "schedule posts",
    POST_PUBLISH: "publish, cancel or retry posts",
    POST_APPROVE: "approve posts or send them back for changes",
    ACCOUNT_MANAGE: "manage accounts",
    WORKSPACE_MANAGE: "manage the workspace's API keys, webhooks and settings",
}


def caller_may(request, *, workspace_id: int, action: str) -> None:
    """Refuse (403) an action the caller's role or key scopes do not allow in a workspace
    it can see."""
    if not member_may(user=request.user, workspace=workspace_id, action=action):
        raise PermissionDenied(
            f"Your role (or your key's scopes) in this workspace does not allow you to "
            f"{ROLE_REFUSALS.get(action, action)}."
        )


def workspace_of_caller(request, workspace_id: int | None):
    """The workspace a request acts in: the one named, or the caller's only one."""
    allowed = workspaces_where(user=request.user, action=WORKSPACE_VIEW)
    if workspace_id is None:
        if allowed.count() != 1:
            raise serializers.ValidationError(
                {"workspace": "Name the workspace: you may use several."}
            )
        return allowed.get()
    workspace = allowed.filter(pk=workspace_id).first()
    if workspace is None:
        raise serializers.ValidationError(
            {"workspace": f"No workspace {workspace_id} of yours; use one of your workspaces."}
        )
    return workspace


class WorkspaceRowField(serializers.PrimaryKeyRelatedField):
    """An id of a row of a workspace the caller sees: rows of other workspaces do not
    exist, so pointing at one is a 400 that names the field. Whether the caller may use
    the row is the view's `caller_may` after, a 403, and that it is of the same workspace
    as the rest is the service's check."""

    def __init__(self, *, model, **kwargs) -> None:
        self.model = model
        super().__init__(queryset=model.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return self.model.objects.none()
        allowed = workspaces_where(user=request.user, action=WORKSPACE_VIEW)
        return self.model.objects.filter(workspace__in=allowed)


class ManagersOnly(permissions.BasePermission):
    """Routes of rows only a workspace's owners see (API keys, webhooks, deliveries): a
    caller who manages no workspace is refused (403), not shown an empty list."""

    message = (
        f"Your role (or your key's scopes) does not allow you to "
        f"{ROLE_REFUSALS[WORKSPACE_MANAGE]}; a workspace's owners (or a key with the admin "
        f"scope) can."
    )

    def has_permission(self, request, view) -> bool:
        return workspaces_where(user=request.user, action=WORKSPACE_MANAGE).exists()


def unchanged_refuse(
    given: dict, *, name: str, current, why: str, source: str | None = None
) -> None:
    """Refuse (400, naming `name`) a change of a field that stays as it was made;
    `source` is its key in `given` where that is not its name."""
    source = source or name
    if source in given and given[source] != current:
        raise serializers.ValidationError({name: [why]})


class NewestFirst(pagination.CursorPagination):
    """Cursor pages, newest first. A `page_size` that is not a whole number from 1 to
    `max_page_size` is refused (400) rather than silently replaced by the default."""

    # The id breaks ties of rows made in the same instant (a cursor needs a total order).
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return self.page_size
        if not asked.isdecimal() or not 1 <= int(asked) <= self.max_page_size:
            raise serializers.ValidationError(
                {
                    self.page_size_query_param: [
                        f"{asked!r} is not a page size; send a whole number from 1 to "
                        f"{self.max_page_size}, or leave it out for {self.page_size}."
                    ]
                }
            )
        return int(asked)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class OldestFirst(NewestFirst):
    """Cursor pages in the order rows were made (by id), for lists people read as a
    register: accounts, webhook endpoints, schedules, slots, limits."""

    ordering = "id"


def rows_release(rows: Iterable[Model]) -> None:
    """Undo the references between a served page's rows and what was read with them.

    Django points each prefetched or `select_related` row back at the row it was read
    for (a part's `post`, a schedule's `post`), and the row holds it in its lists and
    caches: a cycle per relation per row, which reference counting never frees, so a
    page's thousands of objects wait for CPython's full garbage collection, a pause of
    tens of milliseconds every dozen requests. Undone once the answer is made, they are
    freed with the request. The rows are unusable after (their related rows are gone).
    """
    waiting = list(rows)
    seen: set[int] = set()
    while waiting:
        row = waiting.pop()
        if id(row) in seen:
            continue
        seen.add(id(row))
        cached = row._state.fields_cache
        waiting.extend(value for value in cached.values() if isinstance(value, Model))
        cached.clear()
        for queryset in row.__dict__.pop("_prefetched_objects_cache", {}).values():
            waiting.extend(queryset._result_cache or ())
        for name, value in list(row.__dict__.items()):
            # Lists of rows: prefetches `to_attr`.
            if isinstance(value, list) and value and isinstance(value[0], Model):
                waiting.extend(value)
                del row.__dict__[name]


# A time on a zone's wall clock: the zone is given beside it, so there is no offset, which
# OpenAPI's `format: time` (RFC 3339's full-time) would require.
WALL_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "example": "09:30:00",
}


@extend_schema_field(WALL_TIME_SCHEMA)
class WallTimeField(serializers.TimeField):
    """`HH:MM[:SS[.ffffff]]` on the wall clock of a zone named elsewhere; an offset is refused."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(WALL_TIME_SCHEMA["pattern"], value):
            raise serializers.ValidationError(
                "Send a wall-clock time as HH:MM or HH:MM:SS, without an offset "
                "(the zone is given apart)."
            )
        return super().to_internal_value(value)
