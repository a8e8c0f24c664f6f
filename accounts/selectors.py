from django.db.models import QuerySet

from accounts.models import Workspace


def workspaces_for_user(*, user) -> QuerySet[Workspace]:
    """The workspaces a user may see: all for a superuser, else those they belong to."""
    if user.is_superuser:
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user)
