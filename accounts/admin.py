import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from kombu.exceptions import OperationalError

from accounts.keys import api_key_create, api_key_expiry_problem, api_key_revoke
from accounts.models import AuditEvent, Membership, SocialAccount, Workspace, WorkspaceApiKey
from accounts.permissions import (
    ACCOUNT_MANAGE,
    POST_COMPOSE,
    POST_PUBLISH,
    POST_SCHEDULE,
    WORKSPACE_MANAGE,
    WORKSPACE_VIEW,
    member_may,
    workspace_ids_where,
    workspaces_where,
)
from accounts.selectors import (
    social_account_connection,
    social_account_profile_is_stale,
)
from accounts.services import (
    audit_record,
    membership_ensure,
    memberships_apply,
    memberships_owner_problem,
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
User = get_user_model()


class WorkspaceScopedAdmin(admin.ModelAdmin):
    """Rows of workspaces: staff see those of their workspaces, and do there what their
    role allows (accounts/permissions.py), asked of one function for every view, action
    and choice.

    `workspace_path` leads from a row to its workspace. `change_action` is what adding,
    changing and deleting a row takes; each admin action names its own in
    `permissions` (Django then asks `has_<action>_permission`), and acts only on the
    selected rows of workspaces where the role allows it (`permitted`). Every choice of
    a row of another model that belongs to workspaces offers only rows of workspaces
    where the person may make the change.
    """

    workspace_path = "workspace"
    change_action = POST_COMPOSE
    # What seeing the rows takes: every member, unless the rows are owners' business.
    view_action = WORKSPACE_VIEW

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.workspace_path}__in": self.visible_ids(request)})

    def visible_ids(self, request) -> list[int]:
        """The ids of the workspaces where the person may see this admin's rows
        (`workspace_ids_where`), read once a request."""
        answers = request.__dict__.setdefault("_kairos_visible_ids", {})
        key = (request.user.pk, self.view_action)
        if key not in answers:
            answers[key] = workspace_ids_where(user=request.user, action=self.view_action)
        return answers[key]

    def action_checkbox(self, obj):
        """Django's row checkbox, written out rather than rendered through the form
        widget's template: that took a tenth of the post list's time at 100 rows."""
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    def workspace_id_of(self, obj) -> int:
        if self.workspace_path == "pk":
            return obj.pk
        *path, last = self.workspace_path.split("__")
        for name in path:
            obj = getattr(obj, name)
        return getattr(obj, f"{last}_id")

    def may(self, request, action: str, obj=None) -> bool:
        """Whether the person may do `action` to `obj`, or, without one, anywhere.

        Answers are kept for the request: a page asks the same few questions once per
        model (the admin's index and nav ask view, add, change and delete of each), and
        roles do not change within a request.
        """
        workspace_id = None if obj is None else self.workspace_id_of(obj)
        answers = request.__dict__.setdefault("_kairos_may", {})
        key = (request.user.pk, action, workspace_id)
        if key not in answers:
            answers[key] = (
                workspaces_where(user=request.user, action=action).exists()
                if workspace_id is None
                else member_may(user=request.user, workspace=workspace_id, action=action)
            )
        return answers[key]

    def permitted(self, request, queryset, action: str):
        """The rows of `queryset` in workspaces where the person may do `action`; the
        person is told how many were left alone."""
        allowed = queryset.filter(
            **{f"{self.workspace_path}__in": workspaces_where(user=request.user, action=action)}
        )
        skipped = queryset.count() - allowed.count()
        if skipped:
            self.message_user(
                request,
                f"{skipped} selected item(s) left alone: your role in their workspace does "
                "not allow this.",
                messages.WARNING,
            )
        return allowed

    def has_module_permission(self, request):
        return self.may(request, self.view_action)

    def has_view_permission(self, request, obj=None):
        return self.may(request, self.view_action, obj)

    def has_add_permission(self, request):
        return self.may(request, self.change_action)

    def has_change_permission(self, request, obj=None):
        return self.may(request, self.change_action, obj)

    def has_delete_permission(self, request, obj=None):
        return self.may(request, self.change_action, obj)

    # Named by admin actions' `permissions`.
    def has_post_compose_permission(self, request):
        return self.may(request, POST_COMPOSE)

    def has_post_schedule_permission(self, request):
        return self.may(request, POST_SCHEDULE)

    def has_post_publish_permission(self, request):
        return self.may(request, POST_PUBLISH)

    def has_account_manage_permission(self, request):
        return self.may(request, ACCOUNT_MANAGE)

    def has_workspace_manage_permission(self, request):
        return self.may(request, WORKSPACE_MANAGE)

    # --- Every change recorded, old and new ---------------------------------------------

    def save_form(self, request, form, change):
        # Read before anything is written (subclasses save in their own ways).
        request.kairos_before = {}
        if change:
            old = type(form.instance)._default_manager.get(pk=form.instance.pk)
            request.kairos_before = _field_values(old, form.changed_data)
        return super().save_form(request, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        after = _field_values(obj, form.changed_data)
        before = getattr(request, "kairos_before", {})
        changes = {
            name: [before.get(name, ""), value]
            for name, value in after.items()
            if before.get(name, "") != value
        }
        for formset in formsets:
            if not getattr(formset, "audited_by_service", False):
                changes |= _formset_changes(formset)
        if change and not changes:
            return
        audit_record(
            workspace=Workspace.objects.get(pk=self.workspace_id_of(obj)),
            actor=request.user,
            action=f"{obj._meta.model_name}.{'changed' if change else 'created'}",
            subject=obj,
            data={"changes": changes},
        )

    def delete_model(self, request, obj):
        workspace = Workspace.objects.get(pk=self.workspace_id_of(obj))
        audit_record(
            workspace=workspace,
            actor=request.user,
            action=f"{obj._meta.model_name}.deleted",
            subject=obj,
            data={"was": str(obj)},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def choices_scoped(self, request, model, queryset):
        """`queryset` of `model` limited to workspaces where the person may make changes
        here, if `model` belongs to workspaces."""
        path = _workspace_path_of(self.admin_site, model)
        if path is None:
            return queryset
        allowed = workspaces_where(user=request.user, action=self.change_action)
        return queryset.filter(**{f"{path}__in": allowed})

    def choices_scoped_for(self, request, db_field, kwargs: dict) -> dict:
        """A related field's form field arguments, its choices scoped (`choices_scoped`)."""
        related = db_field.remote_field.model
        queryset = kwargs.get("queryset", related._default_manager.all())
        return {**kwargs, "queryset": self.choices_scoped(request, related, queryset)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self.choices_scoped_for(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self.choices_scoped_for(request, db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _shown(value) -> str:
    if isinstance(value, models.Model):
        return str(value)
    return "" if value is None else str(value)


def _field_values(obj, names) -> dict[str, str | list[str]]:
    """The model fields among `names`, as people read them (related rows by name)."""
    values: dict[str, str | list[str]] = {}
    concrete = {field.name: field for field in obj._meta.get_fields() if field.concrete}
    for name in names:
        field = concrete.get(name)
        if field is None:
            continue
        if field.many_to_many:
            values[name] = sorted(str(related) for related in getattr(obj, name).all())
        elif field.choices:
            values[name] = str(getattr(obj, f"get_{name}_display")())
        else:
            values[name] = _shown(getattr(obj, name))
    return values


def _formset_changes(formset) -> dict[str, list]:
    """What an inline's rows became: each changed field old and new, rows added, removed."""
    label = formset.model._meta.verbose_name
    changes: dict[str, list] = {}
    for number, form in enumerate(formset.forms, start=1):
        if not form.has_changed() or not hasattr(form, "cleaned_data"):
            continue
        if form in formset.deleted_forms:
            changes[f"{label} {number}"] = [str(form.instance), "removed"]
            continue
        for name in form.changed_data:
            if name in ("id", "DELETE") or name not in form.cleaned_data:
                continue
            old = "" if form.instance._state.adding else _shown(form.initial.get(name))
            changes[f"{label} {number}: {name}"] = [old, _shown(form.cleaned_data[name])]
    return changes


def _workspace_path_of(site: admin.AdminSite, model) -> str | None:
    """How rows of `model` lead to their workspace, from the admin that shows them."""
    if model is Workspace:
        return "pk"
    model_admin = site._registry.get(model)
    if isinstance(model_admin, WorkspaceScopedAdmin):
        return model_admin.workspace_path
    return None


class ServiceSavedAdmin(WorkspaceScopedAdmin):
    """Rows the admin makes, changes and deletes through their services, the ones the API
    calls, so that a rule and its audit record live once. The form's own checks run
    first (they ask the same rules); the service records the change, so the generic
    record of WorkspaceScopedAdmin is not written again.

    `fields_fixed` stay as they were made (shown read-only on a change).
    """

    fields_fixed: tuple[str, ...] = ()

    def row_create(self, request, values: dict):
        raise NotImplementedError

    def row_change(self, request, row, values: dict):
        raise NotImplementedError

    def row_delete(self, request, row) -> None:
        raise NotImplementedError

    def get_readonly_fields(self, request, obj=None):
        fixed = self.fields_fixed if obj is not None else ()
        return [*super().get_readonly_fields(request, obj), *fixed]

    def save_model(self, request, obj, form, change):
        if change:
            values = {name: form.cleaned_data[name] for name in form.changed_data}
            row = type(obj)._default_manager.get(pk=obj.pk)
            self.row_change(request, row, values)
            return
        row = self.row_create(request, dict(form.cleaned_data))
        # The admin goes on with the form's instance (its messages and redirect).
        obj.pk = row.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        admin.ModelAdmin.save_related(self, request, form, formsets, change)

    def delete_model(self, request, obj):
        self.row_delete(request, obj)


class WorkspaceScopedInline:
    """An inline's rows change with their parent: what the parent's admin allows."""

    def _parent_admin(self) -> WorkspaceScopedAdmin:
        return self.admin_site._registry[self.parent_model]

    def has_view_permission(self, request, obj=None):
        return self._parent_admin().may(request, WORKSPACE_VIEW, obj)

    def has_add_permission(self, request, obj=None):
        parent = self._parent_admin()
        return parent.may(request, parent.change_action, obj)

    def has_change_permission(self, request, obj=None):
        parent = self._parent_admin()
        return parent.may(request, parent.change_action, obj)

    def has_delete_permission(self, request, obj=None):
        parent = self._parent_admin()
        return parent.may(request, parent.change_action, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._parent_admin().choices_scoped_for(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._parent_admin().choices_scoped_for(request, db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class UserByNameField(forms.CharField):
    """A person named by their username or email address, exactly (case aside). An
    owner adds the people they know without being shown a list of everyone who uses
    this Kairos, other workspaces' people among them."""

    def prepare_value(self, value):
        if isinstance(value, int):  # a saved membership's user
            return User.objects.filter(pk=value).values_list("username", flat=True).first()
        return super().prepare_value(value)

    def has_changed(self, initial, data) -> bool:
        return (self.prepare_value(initial) or "") != (data or "").strip()

    def clean(self, value):
        if isinstance(value, int):  # a saved membership's user, shown disabled
            return User.objects.get(pk=value)
        name = super().clean(value).strip()
        found = list(
            User.objects.filter(
                Q(username__iexact=name) | Q(email__iexact=name), is_active=True
            ).order_by("pk")[:2]
        )
        if not found:
            raise ValidationError(
                f"No one uses “{name}” as username or email here. Your Kairos's operator "
                "makes people's accounts; give the name they sign in with."
            )
        if len(found) > 1:
            raise ValidationError(f"Several people use “{name}”; give their username.")
        return found[0]


class MembershipForm(forms.ModelForm):
    """A member and their role; a saved member's person stays as it is (remove the
    member and add the other person instead)."""

    class Meta:
        model = Membership
        fields = ["user", "role"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["user"].disabled = True


class MembershipByNameForm(MembershipForm):
    user = UserByNameField(
        label="Person", help_text="The username or email address they sign in with."
    )


class MembershipFormSet(forms.BaseInlineFormSet):
    """Refuses, with the rule of accounts.services.memberships_apply, a change that
    leaves the workspace without the owner it had. memberships_apply records each
    change, so the workspace's generic record leaves them out."""

    audited_by_service = True

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        kept = [
            form.cleaned_data["role"]
            for form in self.forms
            if form.cleaned_data.get("role") and not self._should_delete_form(form)
        ]
        before = Membership.objects.filter(workspace=self.instance).values_list("role", flat=True)
        if problem := memberships_owner_problem(roles_before=before, roles_after=kept):
            raise ValidationError(problem)


class MembershipInline(WorkspaceScopedInline, admin.TabularInline):
    """A workspace's members and their roles. Superusers (the operator) pick people
    from a search of everyone; owners name them (`UserByNameField`)."""

    model = Membership
    formset = MembershipFormSet
    extra = 0
    verbose_name = "member"
    verbose_name_plural = "members and their roles"

    def get_autocomplete_fields(self, request):
        return ["user"] if request.user.is_superuser else []

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = MembershipForm if request.user.is_superuser else MembershipByNameForm
        return super().get_formset(request, obj, **kwargs)


@admin.register(Workspace)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    workspace_path = "pk"
    # Settings, members and roles, and pausing all publishing: owners.
    change_action = WORKSPACE_MANAGE
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

    @admin.action(description="Pause all publishing (crisis)", permissions=["workspace_manage"])
    def pause_publishing(self, request, queryset):
        for workspace in self.permitted(request, queryset, WORKSPACE_MANAGE):
            workspace_publishing_pause(workspace=workspace, actor=request.user)
            self.message_user(
                request,
                f"{workspace}: publishing paused. Due posts wait; resume to let them go.",
                messages.WARNING,
            )

    @admin.action(description="Resume publishing", permissions=["workspace_manage"])
    def resume_publishing(self, request, queryset):
        for workspace in self.permitted(request, queryset, WORKSPACE_MANAGE):
            if workspace_publishing_resume(workspace=workspace, actor=request.user):
                self.message_user(
                    request,
                    f"{workspace}: publishing resumed. Posts held past the missed-post "
                    "window are marked missed.",
                )

    def has_add_permission(self, request):
        # A workspace is made by the operator (a superuser), who names its first owner.
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        # Deleting one takes every account, post and record of it along.
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            membership_ensure(workspace=obj, user=request.user, role=Membership.Role.OWNER)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        try:
            memberships_apply(
                workspace=form.instance,
                added=formset.new_objects,
                changed=[member for member, _ in formset.changed_objects],
                removed=formset.deleted_objects,
                actor=request.user,
            )
        except ValidationError as refusal:
            # Another owner's change, saved since this form was checked, took the last
            # owner away: nothing of this one is kept (the admin's save is one transaction).
            raise PermissionDenied(" ".join(refusal.messages)) from refusal


@admin.register(SocialAccount)
class SocialAccountAdmin(WorkspaceScopedAdmin):
    change_action = ACCOUNT_MANAGE
    list_display = ["__str__", "display_name", "workspace", "network", "health", "connection"]
    list_filter = ["network", "status", ("workspace", admin.RelatedOnlyFieldListFilter)]
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

    @admin.action(description="Pause publishing to these accounts", permissions=["account_manage"])
    def pause(self, request, queryset):
        for account in self.permitted(request, queryset, ACCOUNT_MANAGE):
            if social_account_pause(account=account, actor=request.user):
                self.message_user(request, f"{account}: paused; its due posts wait.")

    @admin.action(description="Resume publishing to these accounts", permissions=["account_manage"])
    def resume(self, request, queryset):
        for account in self.permitted(request, queryset, ACCOUNT_MANAGE):
            if social_account_resume(account=account, actor=request.user):
                self.message_user(request, f"{account}: resumed.")

    @admin.action(
        description="Clear the billing problem (once settled on the network)",
        permissions=["account_manage"],
    )
    def clear_billing_problem(self, request, queryset):
        for account in self.permitted(request, queryset, ACCOUNT_MANAGE):
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


class ReadOnlyAdmin:
    """A record people read and never edit (the audit trail, delivery logs)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, WorkspaceScopedAdmin):
    list_display = ["created_at", "workspace", "actor", "action", "subject_label", "transition"]
    list_filter = ["action", ("workspace", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "created_at"

    @admin.display(description="Subject")
    def subject_label(self, event: AuditEvent) -> str:
        return f"{event.subject_type.name} #{event.subject_id}"

    @admin.display(description="Status")
    def transition(self, event: AuditEvent) -> str:
        if event.from_status or event.to_status:
            return f"{event.from_status or '—'} → {event.to_status or '—'}"
        return ""


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=WorkspaceApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do in its workspace (accounts/permissions.py).",
    )

    class Meta:
        model = WorkspaceApiKey
        fields = ["workspace", "name", "scopes", "expiry_date"]

    def clean_expiry_date(self):
        expires_at = self.cleaned_data.get("expiry_date")
        if problem := api_key_expiry_problem(expires_at):
            raise forms.ValidationError(problem)
        return expires_at


@admin.register(WorkspaceApiKey)
class WorkspaceApiKeyAdmin(WorkspaceScopedAdmin):
    """Owners make keys (the key is shown once, on the next page) and revoke them; a key
    is never changed or deleted, so the audit trail always knows what it was. Members
    see which keys exist (name, prefix, scopes), never a key itself."""

    change_action = WORKSPACE_MANAGE
    form = ApiKeyForm
    list_display = ["name", "prefix", "workspace", "scopes", "created", "last_used_at", "revoked"]
    list_filter = ["revoked", ("workspace", admin.RelatedOnlyFieldListFilter)]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["workspace", "name", "prefix", "scopes", "expiry_date", "created_by", "revoked"]

    def save_model(self, request, obj, form, change):
        try:
            key, secret = api_key_create(
                workspace=form.cleaned_data["workspace"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=request.user,
                expires_at=form.cleaned_data.get("expiry_date"),
            )
        except ValidationError as refusal:
            raise PermissionDenied(" ".join(refusal.messages)) from refusal
        obj.pk, obj.prefix = key.pk, key.prefix
        obj._state.adding = False
        self.message_user(
            request,
            f"The key, shown this once (keep it in the integration's secret store): {secret}",
            messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        """api_key_create recorded the key in the audit trail."""

    @admin.action(
        description="Revoke (the key stops working, for good)", permissions=["workspace_manage"]
    )
    def revoke(self, request, queryset):
        for key in self.permitted(request, queryset, WORKSPACE_MANAGE):
            if api_key_revoke(key=key, actor=request.user):
                self.message_user(request, f"{key}: revoked.", messages.SUCCESS)
