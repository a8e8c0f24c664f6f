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
from accounts.timezones import zone_canonical_name, zone_choices
from posts.models import Campaign, MediaAsset, Post, PostPart, Tag
from posts.services import post_restore, post_set_targets, post_soft_delete
from publishing.models import PublishJob
from publishing.services import post_cancel, post_publish_now, post_repeats_identical_text
from scheduling.admin import schedule_summary_html
from scheduling.campaigns import campaign_distribute
from scheduling.models import Schedule
from scheduling.selectors import schedule_zones_most_used
from scheduling.services import schedule_set
from scheduling.slots import post_add_to_queue


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


class ZoneInput(forms.TextInput):
    """A text box that offers zones as one types: the browser searches the list (an
    HTML datalist) for what is typed anywhere in a name, most used zones first."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.zones: list[tuple[str, str]] = []

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}_choices"
        box = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join(
            "", '<option value="{}">{}</option>', ((zone, label) for zone, label in self.zones)
        )
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


def zone_choices_in_order(*, most_used) -> list[tuple[str, str]]:
    """The zones as one list, most used first, each once."""
    ordered: dict[str, str] = {}
    for value, label in zone_choices(most_used=most_used):
        for zone, zone_label in label if isinstance(label, list) else [(value, label)]:
            ordered.setdefault(zone, zone_label)
    return list(ordered.items())


VARIANT_SEPARATOR = "---"
SCHEDULE_FIELDS = ["kind", "local_date", "local_time", "timezone", "every", "unit", "cron", "rrule"]


class PostAdminForm(forms.ModelForm):
    accounts = forms.ModelMultipleChoiceField(
        queryset=SocialAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Where the post goes. Leave empty to keep it a draft.",
    )
    variants = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        label="Text variants",
        help_text=f"Recurring posts: other texts for part 1, used in turn, separated by a "
        f"line with {VARIANT_SEPARATOR}. In any text, {{date}}, {{weekday}} and {{n}} "
        "become the occurrence's date, weekday and number.",
    )
    schedule_kind = forms.ChoiceField(
        required=False,
        label="Repeat",
        choices=[("", "—"), *Schedule.Kind.choices],
        help_text="Once, or a rule. Leave empty and give no date to keep a draft.",
    )
    schedule_local_date = forms.DateField(required=False, widget=AdminDateWidget, label="Date")
    schedule_local_time = forms.TimeField(
        required=False,
        widget=AdminTimeWidget(format="%H:%M:%S"),
        label="Time",
        help_text="Wall-clock time in the zone below (HH:MM or HH:MM:SS); for a rule, "
        "its first occurrence.",
    )
    schedule_timezone = forms.CharField(
        required=False,
        widget=ZoneInput(attrs={"placeholder": "Europe/Paris", "size": 30}),
        label="Time zone",
        help_text="Type a city to search, e.g. New York. Empty: the workspace's default zone.",
    )
    schedule_every = forms.IntegerField(required=False, min_value=1, label="Every")
    schedule_unit = forms.ChoiceField(
        required=False, choices=[("", "—"), *Schedule.Unit.choices], label="Unit"
    )
    schedule_cron = forms.CharField(
        required=False, label="Cron", help_text="Five fields in the zone, e.g. 0 9 * * MON-FRI."
    )
    schedule_rrule = forms.CharField(
        required=False,
        label="RRULE",
        help_text="e.g. FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10 (DTSTART is the date and time above).",
    )

    class Meta:
        model = Post
        fields = ["workspace", "priority", "campaign", "tags"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        workspaces = workspaces_for_user(user=user)
        self.fields["accounts"].queryset = SocialAccount.objects.filter(
            workspace__in=workspaces, status=SocialAccount.Status.ACTIVE
        ).select_related("workspace")
        most_used = schedule_zones_most_used(workspaces=workspaces)
        self.fields["schedule_timezone"].widget.zones = zone_choices_in_order(most_used=most_used)
        post = self.instance
        if post.pk:
            self.fields["accounts"].initial = list(post.targets.values_list("account", flat=True))
            self.fields["variants"].initial = f"\n{VARIANT_SEPARATOR}\n".join(post.text_variants)
            schedule = getattr(post, "schedule", None)
            if schedule is not None:
                for name in SCHEDULE_FIELDS:
                    self.fields[f"schedule_{name}"].initial = getattr(schedule, name)

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
        has_date = bool(cleaned.get("schedule_local_date"))
        has_time = bool(cleaned.get("schedule_local_time"))
        if has_date != has_time:
            self.add_error(
                "schedule_local_date" if not has_date else "schedule_local_time",
                "Give both a date and a time to schedule the post, or neither to keep a draft.",
            )
        return cleaned

    def clean_schedule_timezone(self) -> str:
        name = self.cleaned_data["schedule_timezone"].strip()
        if not name:
            return ""
        try:
            return zone_canonical_name(name)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean_variants(self) -> list[str]:
        raw = self.cleaned_data["variants"].replace("\r\n", "\n")
        chunks = raw.split(f"\n{VARIANT_SEPARATOR}\n") if raw.strip() else []
        return [chunk.strip() for chunk in chunks if chunk.strip()]

    def schedule_requested(self) -> bool:
        return bool(self.cleaned_data.get("schedule_local_date")) and (
            self.instance.status == Post.Status.DRAFT
            or not hasattr(self.instance, "schedule")
            or any(f"schedule_{name}" in self.changed_data for name in SCHEDULE_FIELDS)
        )

    def schedule_arguments(self, *, default_zone: str) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["schedule_kind"] or Schedule.Kind.ONCE,
            "local_date": data["schedule_local_date"],
            "local_time": data["schedule_local_time"],
            "timezone_name": data["schedule_timezone"] or default_zone,
            "every": data["schedule_every"],
            "unit": data["schedule_unit"],
            "cron": data["schedule_cron"].strip(),
            "rrule": data["schedule_rrule"].strip(),
        }


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
    actions = ["publish_now", "add_to_queue", "cancel", "restore"]
    save_on_top = True

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["workspace", "accounts", "priority", "campaign", "tags"]}),
            ("Text variants", {"fields": ["variants"], "classes": ["collapse"]}),
            (
                "Schedule",
                {
                    "fields": [
                        "schedule_kind",
                        ("schedule_local_date", "schedule_local_time"),
                        "schedule_timezone",
                        ("schedule_every", "schedule_unit"),
                        "schedule_cron",
                        "schedule_rrule",
                    ]
                },
            ),
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
    def when(self, post: Post):
        schedule = getattr(post, "schedule", None)
        if schedule is None:
            return "Not scheduled"
        utc = schedule.start_utc
        start = (
            f"{schedule.start_wall:%a %d %b %Y %H:%M:%S} {schedule.timezone} "
            f"({utc:%Y-%m-%d %H:%M:%S} UTC) · {schedule.get_status_display()}"
        )
        if schedule.kind == Schedule.Kind.ONCE:
            return start
        return schedule_summary_html(schedule)

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
        obj.text_variants = form.cleaned_data["variants"]
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        post_set_targets(post=post, accounts=form.cleaned_data["accounts"], actor=request.user)
        if not form.schedule_requested():
            return
        arguments = form.schedule_arguments(default_zone=post.workspace.default_timezone)
        try:
            # A savepoint: a refused schedule leaves the post saved as a draft.
            with transaction.atomic():
                schedule = schedule_set(post=post, actor=request.user, **arguments)
        except ValidationError as exc:
            messages.error(request, f"Saved, but not scheduled: {' '.join(exc.messages)}")
            return
        first = schedule.next_occurrence_at
        local = first.astimezone(schedule.zone)
        messages.success(
            request,
            f"Scheduled for {local:%Y-%m-%d %H:%M:%S} {schedule.timezone} ({first:%H:%M:%S} UTC).",
        )
        if post_repeats_identical_text(post=post):
            messages.warning(
                request,
                "X refuses a post that repeats one already on the account: add text "
                "variants, or {date}, {weekday} or {n} to the text.",
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

    @admin.action(description="Add to queue (next free slot of its accounts)")
    def add_to_queue(self, request, queryset):
        for post in queryset:
            try:
                schedule = post_add_to_queue(post=post, actor=request.user)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
                self.message_user(request, f"{post}: not queued: {problem}", messages.ERROR)
                continue
            local = schedule.next_occurrence_at.astimezone(schedule.zone)
            self.message_user(
                request, f"{post}: queued for {local:%a %d %b %H:%M} {schedule.timezone}."
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
    list_display = ["name", "workspace", "starts_on", "ends_on", "timezone"]
    actions = ["distribute"]

    @admin.action(description="Distribute its posts over its days (19:00 local)")
    def distribute(self, request, queryset):
        for campaign in queryset:
            try:
                schedules = campaign_distribute(campaign=campaign, actor=request.user)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
                self.message_user(request, f"{campaign}: {problem}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{campaign}: {len(schedules)} post(s) scheduled over its days."
                )


@admin.register(MediaAsset)
class MediaAssetAdmin(WorkspaceScopedAdmin):
    list_display = ["__str__", "workspace", "kind", "size_bytes", "created_at"]
    list_filter = ["kind"]
