from django.contrib import admin

from accounts.models import AuditEvent, Membership, SocialAccount, Workspace
from accounts.selectors import workspaces_for_user
from accounts.services import membership_ensure, social_account_create_sandbox


class WorkspaceScopedAdmin(admin.ModelAdmin):
    """Staff see and choose only the workspaces they are members of."""

    workspace_path = "workspace"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(
            **{f"{self.workspace_path}__in": workspaces_for_user(user=request.user)}
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "workspace":
            kwargs["queryset"] = workspaces_for_user(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    workspace_path = "pk"
    list_display = ["name", "slug", "default_timezone", "missed_post_window"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            membership_ensure(workspace=obj, user=request.user, role=Membership.Role.OWNER)


@admin.register(SocialAccount)
class SocialAccountAdmin(WorkspaceScopedAdmin):
    list_display = ["__str__", "display_name", "workspace", "network", "status"]
    list_filter = ["network", "status", "workspace"]
    search_fields = ["handle", "display_name"]
    readonly_fields = ["external_id", "status", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["workspace", "handle", "display_name"]
        return ["workspace", "network", "handle", "display_name", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["workspace", "network", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # Accounts added by hand are sandbox accounts; X accounts are connected
        # through their network's sign-in flow.
        created = social_account_create_sandbox(
            workspace=obj.workspace,
            handle=obj.handle,
            display_name=obj.display_name,
            actor=request.user,
        )
        obj.pk, obj.network, obj.external_id = created.pk, created.network, created.external_id

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "Add sandbox account"}
        return super().add_view(request, form_url, extra_context)


@admin.register(AuditEvent)
class AuditEventAdmin(WorkspaceScopedAdmin):
    list_display = ["created_at", "workspace", "actor", "action", "subject_label", "transition"]
    list_filter = ["action", "workspace"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Subject")
    def subject_label(self, event: AuditEvent) -> str:
        return f"{event.subject_type.name} #{event.subject_id}"

    @admin.display(description="Status")
    def transition(self, event: AuditEvent) -> str:
        if event.from_status or event.to_status:
            return f"{event.from_status or '—'} → {event.to_status or '—'}"
        return ""
