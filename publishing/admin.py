from django.contrib import admin, messages
from django.utils.html import format_html

from accounts.admin import WorkspaceScopedAdmin
from publishing.models import PublishAttempt, PublishJob, SandboxPost
from publishing.services import job_retry


class PublishAttemptInline(admin.TabularInline):
    model = PublishAttempt
    fields = [
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "error_kind",
        "http_status",
        "duration_ms",
        "request_id",
        "worker",
        "error_message",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PublishJob)
class PublishJobAdmin(WorkspaceScopedAdmin):
    workspace_path = "post__workspace"
    list_display = [
        "id",
        "post",
        "account",
        "status",
        "occurrence_at",
        "attempt_count",
        "link",
    ]
    list_filter = ["status", "account__network", "error_kind"]
    list_select_related = ["post", "account"]
    search_fields = ["external_id", "post__parts__text"]
    date_hierarchy = "occurrence_at"
    inlines = [PublishAttemptInline]
    actions = ["retry"]
    readonly_fields = [
        "post",
        "account",
        "status",
        "occurrence_at",
        "due_at",
        "next_attempt_at",
        "lease_expires_at",
        "attempt_count",
        "link",
        "external_id",
        "part_external_ids",
        "error_kind",
        "error_message",
        "published_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Published post")
    def link(self, job: PublishJob):
        if not job.external_url:
            return "—"
        return format_html('<a href="{0}" target="_blank">{0}</a>', job.external_url)

    @admin.action(description="Retry (failed, missed or needs-review jobs only)")
    def retry(self, request, queryset):
        for job in queryset.select_related("post__workspace"):
            if job_retry(job=job, actor=request.user):
                self.message_user(request, f"Job {job.pk} will be sent again.", messages.SUCCESS)
            else:
                self.message_user(
                    request,
                    f"Job {job.pk} is {job.get_status_display().lower()}; only failed, missed "
                    "or needs-review jobs can be retried.",
                    messages.WARNING,
                )


@admin.register(SandboxPost)
class SandboxPostAdmin(WorkspaceScopedAdmin):
    workspace_path = "account__workspace"
    list_display = ["id", "account", "text", "in_reply_to", "created_at"]
    list_select_related = ["account"]
    readonly_fields = ["account", "idempotency_key", "text", "in_reply_to", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False
