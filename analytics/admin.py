from django.contrib import admin

from accounts.admin import WorkspaceScopedAdmin
from analytics.models import MetricsSnapshot


@admin.register(MetricsSnapshot)
class MetricsSnapshotAdmin(WorkspaceScopedAdmin):
    workspace_path = "job__post__workspace"
    list_display = ["job", "due_at", "collected_at", *MetricsSnapshot.NUMBERS]
    list_select_related = ["job__account", "job__post"]
    search_fields = ["job__external_id"]
    date_hierarchy = "due_at"
    readonly_fields = [*list_display, "raw"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
