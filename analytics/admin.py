from django.contrib import admin

from accounts.admin import WorkspaceScopedAdmin
from analytics.models import MetricsSnapshot


@admin.register(MetricsSnapshot)
class MetricsSnapshotAdmin(WorkspaceScopedAdmin):
    workspace_path = "job__post__workspace"
    list_display = ["job", "due_at", "collected_at", "impressions", "likes", "reposts", "replies"]
    list_select_related = ["job"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
