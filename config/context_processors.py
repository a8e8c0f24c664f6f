"""Template context every admin page needs."""

from publishing.notifications import notifications_unread_count


def notifications(request) -> dict:
    """The signed-in member's unread notifications, for the count in the admin's header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/admin/"):
        return {}
    return {"kairos_unread_notifications": notifications_unread_count(user=user)}
