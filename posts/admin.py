from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget, AdminTimeWidget
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.admin import WorkspaceScopedAdmin
from accounts.models import SocialAccount
from accounts.selectors import workspaces_for_user
from posts.models import Campaign, MediaAsset, Post, PostPart, Tag
from posts.services import post_restore, post_set_targets, post_soft_delete
from publishing.models import PublishJob
from publishing.services import post_cancel, post_publish_now
from scheduling.services import schedule_once
from scheduling.timezones import zone_choices


class PostPartInline(admin.TabularInline):
    model = PostPart
    fields = ["position", "text"]
    extra = 0
    min_num = 1
    verbose_name = "part"
    verbose_name_plural = "Text (one part for a post, several for a thread)"
    formfield_overrides = {
        PostPart._meta.get_field("text").__class__: {
            "widget": forms.Textarea(attrs={"rows": 3, "cols": 80})
        }
    }


class PublishJobInline(admin.TabularInline):
    model = PublishJob
    fields = ["job_link", "account", "status", "occurrence_at", "attempt_count", "published_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "Publish jobs (one per account and occurrence)"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Job")
    def job_link(self, job: PublishJob):
        url = reverse("admin:publishing_publishjob_change", args=[job.pk])
        return format_html('<a href="{}">#{}</a>', url, job.pk)

    @admin.display(description="Published at")
    def published_link(self, job: PublishJob):
        if not job.external_url:
            return job.error_message or "—"
        return format_html('<a href="{0}" target="_blank">{0}</a>', job.external_url)


class PostAdminForm(forms.ModelForm):
    accounts = forms.ModelMultipleChoiceField(
        queryset=SocialAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Where the post goes. Leave empty to keep it a draft.",
    )
    schedule_date = forms.DateField(required=False, widget=AdminDateWidget, label="Date")
    schedule_time = forms.TimeField(
        required=False,
        widget=AdminTimeWidget(format="%H:%M:%S"),
        label="Time",
        help_text="Wall-clock time in the zone below (HH:MM or HH:MM:SS).",
    )
    schedule_timezone = forms.ChoiceField(
        required=False,
        label="Time zone",
        help_text="Empty: the workspace's default zone.",
    )

    class Meta:
        model = Post
        fields = ["workspace", "campaign", "tags"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        workspaces = workspaces_for_user(user=user)
        self.fields["accounts"].queryset = SocialAccount.objects.filter(
            workspace__in=workspaces, status=SocialAccount.Status.ACTIVE
        ).select_related("workspace")
        self.fields["schedule_timezone"].choices = [("", "—"), *zone_choices()]
        post = self.instance
        if post.pk:
            self.fields["accounts"].initial = list(post.targets.values_list("account", flat=True))
            schedule = getattr(post, "schedule", None)
            if schedule is not None:
                self.fields["schedule_date"].initial = schedule.local_date
                self.fields["schedule_time"].initial = schedule.local_time
                self.fields["schedule_timezone"].initial = schedule.timezone

    def clean(self):
        cleaned = super().clean()
        workspace = cleaned.get("workspace")
        accounts = cleaned.get("accounts") or []
        foreign = [str(a) for a in accounts if workspace and a.workspace_id != workspace.pk]
        if foreign:
            self.add_error(
                "accounts",
                f"{', '.join(foreign)} belong(s) to another workspace than {workspace}.",
            )
        has_date, has_time = bool(cleaned.get("schedule_date")), bool(cleaned.get("schedule_time"))
        if has_date != has_time:
            self.add_error(
                "schedule_date" if not has_date else "schedule_time",
                "Give both a date and a time to schedule the post, or neither to keep a draft.",
            )
        return cleaned

    def schedule_requested(self) -> bool:
        data = self.cleaned_data
        fields = ["schedule_date", "schedule_time", "schedule_timezone"]
        return bool(data.get("schedule_date")) and (
            self.instance.status == Post.Status.DRAFT
            or not hasattr(self.instance, "schedule")
            or any(name in self.changed_data for name in fields)
        )


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Not deleted"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset.filter(deleted_at__isnull=True)

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                continue
            if self.value() is None and choice.get("query_string", "").endswith("deleted=no"):
                choice["selected"] = True
            yield choice


@admin.register(Post)
class PostAdmin(WorkspaceScopedAdmin):
    form = PostAdminForm
    inlines = [PostPartInline, PublishJobInline]
    list_display = ["__str__", "workspace", "status", "when", "targets_label", "updated_at"]
    list_filter = ["status", DeletedFilter, "workspace"]
    search_fields = ["parts__text"]
    readonly_fields = ["status", "when", "published_links", "created_at", "updated_at"]
    actions = ["publish_now", "cancel", "restore"]
    save_on_top = True

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["workspace", "accounts", "campaign", "tags"]}),
            ("Schedule", {"fields": [("schedule_date", "schedule_time"), "schedule_timezone"]}),
        ]
        if obj is not None:
            fieldsets.append(
                (
                    "Outcome",
                    {"fields": ["status", "when", "published_links", "created_at", "updated_at"]},
                )
            )
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, user=request.user, **inner)

        return RequestForm

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("workspace", "schedule")
            .prefetch_related("parts", "targets__account")
        )

    @admin.display(description="When")
    def when(self, post: Post) -> str:
        schedule = getattr(post, "schedule", None)
        if schedule is None:
            return "Not scheduled"
        utc = schedule.start_utc
        return (
            f"{schedule.start_wall:%a %d %b %Y %H:%M:%S} {schedule.timezone} "
            f"({utc:%Y-%m-%d %H:%M:%S} UTC) · {schedule.get_status_display()}"
        )

    @admin.display(description="Accounts")
    def targets_label(self, post: Post) -> str:
        return ", ".join(str(target.account) for target in post.targets.all()) or "—"

    @admin.display(description="Published posts")
    def published_links(self, post: Post):
        jobs = post.jobs.exclude(external_url="").select_related("account")
        if not jobs:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '{}: <a href="{}" target="_blank">{}</a>',
            ((job.account, job.external_url, job.external_url) for job in jobs),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        post_set_targets(post=post, accounts=form.cleaned_data["accounts"], actor=request.user)
        if not form.schedule_requested():
            return
        zone_name = form.cleaned_data["schedule_timezone"] or post.workspace.default_timezone
        try:
            # A savepoint: a refused schedule leaves the post saved as a draft.
            with transaction.atomic():
                schedule = schedule_once(
                    post=post,
                    local_date=form.cleaned_data["schedule_date"],
                    local_time=form.cleaned_data["schedule_time"],
                    timezone_name=zone_name,
                    actor=request.user,
                )
        except ValidationError as exc:
            messages.error(request, f"Saved, but not scheduled: {' '.join(exc.messages)}")
            return
        messages.success(
            request,
            f"Scheduled for {schedule.start_wall:%Y-%m-%d %H:%M:%S} {zone_name} "
            f"({schedule.start_utc:%H:%M:%S} UTC).",
        )

    def delete_model(self, request, obj):
        post_soft_delete(post=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for post in queryset:
            post_soft_delete(post=post, actor=request.user)

    @admin.action(description="Publish now")
    def publish_now(self, request, queryset):
        for post in queryset:
            try:
                created = post_publish_now(post=post, actor=request.user, now=timezone.now())
            except ValidationError as exc:
                self.message_user(
                    request, f"{post}: not published: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                self.message_user(
                    request, f"{post}: publishing to {created} account(s) now.", messages.SUCCESS
                )

    @admin.action(description="Cancel publishing")
    def cancel(self, request, queryset):
        for post in queryset:
            outcome = post_cancel(post=post, actor=request.user)
            level = messages.WARNING if outcome.still_running else messages.SUCCESS
            self.message_user(request, f"{post}: {outcome.message()}", level)

    @admin.action(description="Restore deleted posts")
    def restore(self, request, queryset):
        for post in queryset.filter(deleted_at__isnull=False):
            post_restore(post=post, actor=request.user)
            self.message_user(request, f"{post}: restored as a draft.", messages.SUCCESS)


@admin.register(Tag)
class TagAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "workspace"]
    search_fields = ["name"]


@admin.register(Campaign)
class CampaignAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "workspace", "starts_on", "ends_on"]


@admin.register(MediaAsset)
class MediaAssetAdmin(WorkspaceScopedAdmin):
    list_display = ["__str__", "workspace", "kind", "size_bytes", "created_at"]
    list_filter = ["kind"]
