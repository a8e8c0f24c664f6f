from django.contrib import admin

from accounts.admin import WorkspaceScopedAdmin
from scheduling.models import Schedule


@admin.register(Schedule)
class ScheduleAdmin(WorkspaceScopedAdmin):
    workspace_path = "post__workspace"
    list_display = ["post", "kind", "local_label", "timezone", "utc_label", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["post"]
    readonly_fields = [
        "post",
        "kind",
        "local_label",
        "timezone",
        "utc_label",
        "status",
        "next_occurrence_at",
        "last_occurrence_at",
        "occurrence_count",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Local time")
    def local_label(self, schedule: Schedule) -> str:
        return f"{schedule.start_wall:%a %d %b %Y %H:%M:%S}"

    @admin.display(description="UTC")
    def utc_label(self, schedule: Schedule) -> str:
        return f"{schedule.start_utc:%Y-%m-%d %H:%M:%S} UTC"
