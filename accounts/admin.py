import logging

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from kombu.exceptions import OperationalError

from accounts.models import AuditEvent, Membership, SocialAccount, Workspace
from accounts.selectors import (
    social_account_connection,
    social_account_profile_is_stale,
    workspaces_for_user,
)
from accounts.services import (
    membership_ensure,
    social_account_billing_clear,
    social_account_create_sandbox,
    social_account_pause,
    social_account_resume,
    workspace_publishing_pause,
    workspace_publishing_resume,
)
from accounts.tasks import x_profiles_refresh
from publishing.selectors import social_account_health

logger = logging.getLogger(__name__)


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
    list_display = ["name", "slug", "default_timezone", "missed_post_window", "publishing"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["publishing_paused_at"]
    inlines = [MembershipInline]
    actions = ["pause_publishing", "resume_publishing"]

    @admin.display(description="Publishing")
    def publishing(self, workspace: Workspace) -> str:
        if workspace.publishing_paused_at:
            return f"PAUSED since {workspace.publishing_paused_at:%Y-%m-%d %H:%M} UTC"
        return "On"

    @admin.action(description="Pause all publishing (crisis)")
    def pause_publishing(self, request, queryset):
        for workspace in queryset:
            workspace_publishing_pause(workspace=workspace, actor=request.user)
            self.message_user(
                request,
                f"{workspace}: publishing paused. Due posts wait; resume to let them go.",
                messages.WARNING,
            )

    @admin.action(description="Resume publishing")
    def resume_publishing(self, request, queryset):
        for workspace in queryset:
            if workspace_publishing_resume(workspace=workspace, actor=request.user):
                self.message_user(
                    request,
                    f"{workspace}: publishing resumed. Posts held past the missed-post "
                    "window are marked missed.",
                )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            membership_ensure(workspace=obj, user=request.user, role=Membership.Role.OWNER)


@admin.register(SocialAccount)
class SocialAccountAdmin(WorkspaceScopedAdmin):
    list_display = ["__str__", "display_name", "workspace", "network", "health", "connection"]
    list_filter = ["network", "status", "workspace"]
    search_fields = ["handle", "display_name"]
    # Never the credentials: `connection` says how the sign-in stands instead.
    readonly_fields = [
        "external_id",
        "status",
        "health",
        "connection",
        "avatar",
        "followers_count",
        "subscription_type",
        "profile_refreshed_at",
        "billing_problem",
        "created_at",
        "updated_at",
    ]
    actions = ["pause", "resume", "clear_billing_problem"]

    @admin.display(description="Health")
    def health(self, account: SocialAccount) -> str:
        return "; ".join(social_account_health(account=account, now=timezone.now()))

    @admin.display(description="Sign-in")
    def connection(self, account: SocialAccount) -> str:
        return social_account_connection(account=account, now=timezone.now())

    @admin.display(description="Avatar")
    def avatar(self, account: SocialAccount) -> str:
        if not account.avatar_url:
            return "—"
        return format_html('<img src="{}" alt="" width="48" height="48">', account.avatar_url)

    @admin.action(description="Pause publishing to these accounts")
    def pause(self, request, queryset):
        for account in queryset:
            if social_account_pause(account=account, actor=request.user):
                self.message_user(request, f"{account}: paused; its due posts wait.")

    @admin.action(description="Resume publishing to these accounts")
    def resume(self, request, queryset):
        for account in queryset:
            if social_account_resume(account=account, actor=request.user):
                self.message_user(request, f"{account}: resumed.")

    @admin.action(description="Clear the billing problem (once settled on the network)")
    def clear_billing_problem(self, request, queryset):
        for account in queryset:
            if social_account_billing_clear(account=account, actor=request.user):
                self.message_user(request, f"{account}: billing problem cleared.")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["workspace", "handle", "display_name"]
        return ["workspace", "network", "handle", "display_name", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.network == SocialAccount.Network.X:
            # X says what they are; the profile refresh keeps them current.
            return ["workspace", "network", "handle", "display_name", *self.readonly_fields]
        return ["workspace", "network", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            # Only what staff changed: saving the whole row would write back tokens read
            # before a refresh that rotated them in the meantime.
            if form.changed_data:
                obj.save(update_fields=[*form.changed_data, "updated_at"])
            return
        # Accounts added by hand are sandbox accounts; X accounts are connected
        # through their network's sign-in flow ("Connect X account").
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, object_id)
        if account is not None and social_account_profile_is_stale(
            account=account, now=timezone.now()
        ):
            # Refreshed in the background: the page never waits on the network. Without a
            # broker the daily refresh catches up.
            try:
                x_profiles_refresh.delay(account_ids=[account.pk])
            except OperationalError:
                logger.warning("could not ask for account %s's profile refresh", account.pk)
        if account is not None and account.billing_problem:
            self.message_user(
                request,
                f"The network refused {account} for billing: {account.billing_problem} "
                "Settle it there, then clear the billing problem here.",
                messages.WARNING,
            )
        return super().change_view(request, object_id, form_url, extra_context)


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
