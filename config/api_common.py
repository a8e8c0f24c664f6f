"""What every API view shares: refusing what a role or key may not do, paging, conflicts."""

from rest_framework import pagination, serializers, status
from rest_framework.exceptions import APIException, PermissionDenied

from accounts.permissions import (
    ACCOUNT_MANAGE,
    POST_COMPOSE,
    POST_PUBLISH,
    POST_SCHEDULE,
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
    ACCOUNT_MANAGE: "manage accounts",
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


class NewestFirst(pagination.CursorPagination):
    # The id breaks ties of rows made in the same instant (a cursor needs a total order).
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
