import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.widgets import AdminDateWidget, AdminTimeWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV

from accounts.admin import ServiceSavedAdmin, WorkspaceScopedAdmin, WorkspaceScopedInline
from accounts.models import SocialAccount
from accounts.permissions import (
    POST_APPROVE,
    POST_COMPOSE,
    POST_PUBLISH,
    POST_SCHEDULE,
    WORKSPACE_VIEW,
    workspaces_where,
)
from accounts.timezones import zone_canonical_name, zone_choices, zone_get
from analytics.best_times import best_times_hint
from posts.approval import EVENT_LABELS as APPROVAL_EVENT_LABELS
from posts.approval import (
    approval_history,
    post_approve,
    post_awaits_approval,
    post_changes_request,
    post_content_fingerprint,
    post_review_request,
)
from posts.media import media_asset_create, media_facts_read, part_media_set
from posts.models import Campaign, MediaAsset, Post, PostPart, Tag
from posts.services import (
    VARIANT_SEPARATOR,
    campaign_create,
    campaign_delete,
    campaign_update,
    post_restore,
    post_set_targets,
    tag_create,
    tag_delete,
    tag_name_clean,
    tag_rename,
    text_variants_parse,
)
from posts.views import composer_preview
from publishing.approval import (
    jobs_overdue_for_approval,
    post_content_edited,
    posts_awaiting_approval,
)
from publishing.campaigns import campaign_distribute
from publishing.models import PublishJob
from publishing.plans import post_soft_delete, schedule_date_time_problems, schedule_set
from publishing.post_resource import PostResource
from publishing.services import (
    DONE,
    RepublishUnconfirmed,
    post_cancel,
    post_problems,
    post_publish_now,
    post_repeats_identical_text,
    post_republish_check,
)
from publishing.slots import post_add_to_queue
from scheduling.admin import schedule_summary_html
from scheduling.models import Schedule
from scheduling.selectors import schedule_zones_most_used


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field: a list of them, maybe empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


def media_label(asset: MediaAsset) -> str:
    """A library file as a choice: its thumbnail (or what it is), name, alt text."""
    if asset.kind == MediaAsset.Kind.VIDEO:
        seconds = f" · {asset.duration_ms / 1000:.1f} s" if asset.duration_ms else ""
        shown = format_html("<span aria-hidden='true'>🎞</span> video{}", seconds)
    else:
        shown = format_html(
            "<img src='{}' alt='' style='height:48px;vertical-align:middle'>",
            reverse("media-file", args=[asset.pk]),
        )
    alt = format_html(" — alt: “{}”", asset.alt_text) if asset.alt_text else " — no alt text"
    return format_html("{} {} ({}×{}){}", shown, asset, asset.width, asset.height, alt)


class PostPartForm(forms.ModelForm):
    # Set by the page from the rows' order (posts/static/posts/parts_order.js); a part
    # added without it goes last.
    position = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # Not named `media`: that is the model's relation through PartMedia, which
    # part_media_set keeps in order.
    files = forms.ModelMultipleChoiceField(
        queryset=MediaAsset.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Files",
        help_text="From the workspace's library. Files are read when uploaded: their kind, "
        "size and dimensions come from the file.",
    )
    # The chosen files' order, set by the page's ↑ and ↓ on each file
    # (posts/static/posts/media_order.js): library ids, comma-separated.
    media_order = forms.CharField(required=False, widget=forms.HiddenInput)
    uploads = MultipleFileField(required=False, label="Upload")
    alt_texts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
        label="Alt text of uploads",
        help_text="One line per uploaded file, in order: what someone who cannot see it "
        "should hear.",
    )
    library: object = MediaAsset.objects.none()

    class Meta:
        model = PostPart
        fields = ["position", "text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].queryset = self.library
        self.fields["files"].label_from_instance = media_label
        if self.instance.pk:
            self.fields["files"].initial = list(
                self.instance.media.order_by("partmedia__position").values_list("pk", flat=True)
            )
            self.fields["media_order"].initial = ",".join(map(str, self.fields["files"].initial))

    def clean_media_order(self) -> list[int]:
        raw = self.cleaned_data["media_order"]
        try:
            return [int(pk) for pk in raw.split(",") if pk.strip()]
        except ValueError:
            raise ValidationError("The files' order could not be read; reload the page.") from None

    def clean_uploads(self) -> list:
        uploads = self.cleaned_data["uploads"]
        problems = []
        for upload in uploads:
            try:
                media_facts_read(file=upload)
            except ValidationError as problem:
                problems += problem.messages
        if problems:
            raise ValidationError(problems)
        return uploads

    def chosen_media(self) -> list[MediaAsset]:
        """The library files chosen, in the order the page put them in; without one, those
        already on the part in their order first."""
        chosen = list(self.cleaned_data.get("files") or [])
        by_pk = {asset.pk: asset for asset in chosen}
        order = self.cleaned_data.get("media_order") or self.fields["files"].initial or []
        kept = [pk for pk in dict.fromkeys(order) if pk in by_pk]
        return [by_pk[pk] for pk in kept] + [a for a in chosen if a.pk not in kept]

    def alt_text_for(self, number: int) -> str:
        lines = self.cleaned_data.get("alt_texts", "").splitlines()
        return lines[number] if number < len(lines) else ""


class PostPartInline(WorkspaceScopedInline, admin.TabularInline):
    model = PostPart
    form = PostPartForm
    fields = ["position", "text", "files", "media_order", "uploads", "alt_texts"]

    readonly_fields = ["attached"]

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return ["text", "attached"]
        return self.fields

    @admin.display(description="Files")
    def attached(self, part: PostPart) -> str:
        files = [pm.asset for pm in part.partmedia_set.select_related("asset")]
        return format_html_join(mark_safe("<br>"), "{}", ((media_label(a),) for a in files)) or "—"

    def get_formset(self, request, obj=None, **kwargs):
        # The library of the post's workspace (of the person's workspaces, for a new post).
        library = MediaAsset.objects.filter(
            workspace__in=workspaces_where(user=request.user, action=POST_COMPOSE)
        )
        if obj is not None:
            library = library.filter(workspace_id=obj.workspace_id)
        kwargs["form"] = type("PostPartFormOfRequest", (self.form,), {"library": library})
        return super().get_formset(request, obj, **kwargs)

    extra = 0
    min_num = 1
    verbose_name = "part"
    verbose_name_plural = "Text (one part for a post, several for a thread)"
    formfield_overrides = {
        PostPart._meta.get_field("text").__class__: {
            "widget": forms.Textarea(attrs={"rows": 3, "cols": 80})
        }
    }


class PublishJobInline(WorkspaceScopedInline, admin.TabularInline):
    model = PublishJob
    fields = ["job_link", "account", "status", "occurrence_at", "attempt_count", "published_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "Publish jobs (one per account and occurrence)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
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
    HTML datalist) for what is typed anywhere in a name, most used zones first.

    Each zone carries its UTC offset now, in seconds, from the server's zone data, so
    the date and time widgets' "Now" and "Today" read the clock in the zone chosen
    (posts/static/posts/zone_now.js), never in the browser's own zone.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.zones: list[tuple[str, str]] = []

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}_choices"
        box = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        now = timezone.now()
        options = format_html_join(
            "",
            '<option value="{}" data-offset="{}">{}</option>',
            (
                (zone, int(now.astimezone(zone_get(zone)).utcoffset().total_seconds()), label)
                for zone, label in self.zones
            ),
        )
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


def zone_choices_in_order(*, most_used) -> list[tuple[str, str]]:
    """The zones as one list, most used first, each once."""
    ordered: dict[str, str] = {}
    for value, label in zone_choices(most_used=most_used):
        for zone, zone_label in label if isinstance(label, list) else [(value, label)]:
            ordered.setdefault(zone, zone_label)
    return list(ordered.items())


SCHEDULE_FIELDS = ["kind", "local_date", "local_time", "timezone", "every", "unit", "cron", "rrule"]


def composer_accounts(*, user, post: Post):
    """The accounts a post may go to: those of the person's workspaces that take new posts,
    and those the post already targets whatever their state (paused, waiting to be
    reconnected), since leaving one out would drop it from the post on save."""
    targeted = list(post.targets.values_list("account", flat=True)) if post.pk else []
    return (
        SocialAccount.objects.filter(workspace__in=workspaces_where(user=user, action=POST_COMPOSE))
        .exclude(status=SocialAccount.Status.DISABLED)
        .filter(Q(status=SocialAccount.Status.ACTIVE) | Q(pk__in=targeted))
        .select_related("workspace")
        .order_by("workspace__name", "network", "handle")
    )


def own_text_field(account: SocialAccount) -> str:
    return f"text_for_{account.pk}"


def _parts_save_in_order(formset, *, actor) -> None:
    """Save a post's parts numbered 0, 1, 2… in the order the page shows them: by their
    position, a part without one last, ties by the row's place in the form.

    (post, position) is unique, so the parts kept are first moved out of the way.
    """
    post = formset.instance
    kept = [
        form
        for form in formset.forms
        if form.has_changed() or not form.instance._state.adding
        if form not in formset.deleted_forms and hasattr(form, "cleaned_data")
    ]
    order = sorted(
        enumerate(kept),
        key=lambda item: (
            item[1].cleaned_data.get("position") is None,
            item[1].cleaned_data.get("position") or 0,
            item[0],
        ),
    )
    # What formset.save() would note, for the admin's history.
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for deleted in formset.deleted_forms:
        if deleted.instance.pk:
            formset.deleted_objects.append(deleted.instance)
            deleted.instance.delete()
    post.parts.update(position=F("position") + 10_000)
    for position, (_, part_form) in enumerate(order):
        adding = part_form.instance._state.adding
        part = part_form.save(commit=False)
        part.post = post
        part.position = position
        part.save()
        if adding:
            formset.new_objects.append(part)
        elif part_form.changed_data:
            formset.changed_objects.append((part, part_form.changed_data))
        uploaded = [
            media_asset_create(
                workspace=post.workspace,
                file=upload,
                actor=actor,
                alt_text=part_form.alt_text_for(number),
            )
            for number, upload in enumerate(part_form.cleaned_data.get("uploads") or [])
        ]
        try:
            part_media_set(part=part, assets=part_form.chosen_media() + uploaded, actor=actor)
        except ValidationError as refusal:
            raise _SaveRefused(refusal) from refusal


class _SaveRefused(Exception):
    """A service refused part of a save: the whole save is undone and the form shown again."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error)
        self.error = error


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
    confirm_republish = forms.BooleanField(
        required=False,
        label="Publish it again",
        help_text="This post already went out (or was cancelled). Tick to schedule it to go "
        "out again at the new time.",
    )

    class Meta:
        model = Post
        fields = ["workspace", "priority", "campaign", "tags"]

    def __init__(self, *args, user=None, refusal: ValidationError | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refusal = refusal
        most_used = schedule_zones_most_used(
            workspaces=workspaces_where(user=user, action=POST_COMPOSE)
        )
        zone_box = self.fields["schedule_timezone"].widget
        zone_box.zones = zone_choices_in_order(most_used=most_used)
        # An empty zone is the workspace's default: "Now" reads that one's clock.
        zone_box.attrs["data-workspace-zones"] = json.dumps(
            {
                workspace.pk: workspace.default_timezone
                for workspace in workspaces_where(user=user, action=POST_COMPOSE)
            }
        )
        post = self.instance
        targets = {target.account_id: target for target in post.targets.all()} if post.pk else {}
        choices = composer_accounts(user=user, post=post)
        self.fields["accounts"].queryset = choices
        self.fields["accounts"].label_from_instance = _account_label
        for account in choices:
            self.fields[own_text_field(account)] = forms.CharField(
                required=False,
                label=f"Own text for {account}",
                widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
                initial=targets[account.pk].text_override if account.pk in targets else "",
                help_text="Optional: part 1's text for this account only.",
            )
        if post.pk:
            self.fields["accounts"].initial = list(targets)
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
        campaign = cleaned.get("campaign")
        if workspace and campaign and campaign.workspace_id != workspace.pk:
            self.add_error("campaign", f"“{campaign}” is a campaign of another workspace.")
        foreign_tags = (
            [tag.name for tag in cleaned.get("tags") or [] if tag.workspace_id != workspace.pk]
            if workspace
            else []
        )
        if foreign_tags:
            self.add_error(
                "tags", f"{', '.join(foreign_tags)}: tag(s) of another workspace than {workspace}."
            )
        missing = schedule_date_time_problems(
            has_date=bool(cleaned.get("schedule_local_date")),
            has_time=bool(cleaned.get("schedule_local_time")),
        )
        for name, message in missing.items():
            self.add_error(f"schedule_{name}", message)
        # Last: showing a refusal on a field takes the field out of the cleaned data.
        if self.refusal is not None:
            self._refusal_show(self.refusal)
        return cleaned

    def _refusal_show(self, refusal: ValidationError) -> None:
        """What the services refused, on the fields it names (the form's own, where a
        service's field is a schedule field), else at the top."""
        if not hasattr(refusal, "error_dict"):
            self.add_error(None, refusal.messages)
            return
        for name, errors in refusal.message_dict.items():
            field = f"schedule_{name}" if f"schedule_{name}" in self.fields else name
            self.add_error(field if field in self.fields else None, errors)

    def own_texts(self) -> dict[int, str]:
        """The text of its own given to each chosen account (empty: the post's)."""
        return {
            account.pk: self.cleaned_data.get(own_text_field(account), "")
            for account in self.cleaned_data.get("accounts") or []
        }

    def clean_schedule_timezone(self) -> str:
        name = self.cleaned_data["schedule_timezone"].strip()
        if not name:
            return ""
        try:
            return zone_canonical_name(name)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean_variants(self) -> list[str]:
        return text_variants_parse(self.cleaned_data["variants"])

    def schedule_requested(self) -> bool:
        return bool(self.cleaned_data.get("schedule_local_date")) and (
            self.instance.status == Post.Status.DRAFT
            or not hasattr(self.instance, "schedule")
            or any(f"schedule_{name}" in self.changed_data for name in SCHEDULE_FIELDS)
        )

    def schedule_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["schedule_kind"] or Schedule.Kind.ONCE,
            "local_date": data["schedule_local_date"],
            "local_time": data["schedule_local_time"],
            "timezone_name": data["schedule_timezone"],  # empty: the workspace's
            "every": data["schedule_every"],
            "unit": data["schedule_unit"],
            "cron": data["schedule_cron"].strip(),
            "rrule": data["schedule_rrule"].strip(),
        }


def _account_label(account: SocialAccount) -> str:
    if account.status == SocialAccount.Status.ACTIVE:
        return str(account)
    return f"{account} — {account.get_status_display().lower()}: its posts wait"


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


class ApprovalFilter(admin.SimpleListFilter):
    title = "approval"
    parameter_name = "approval"
    OVERDUE = "overdue"

    def lookups(self, request, model_admin):
        return [*Post.Approval.choices, (self.OVERDUE, "Overdue for approval")]

    def queryset(self, request, queryset):
        if self.value() == self.OVERDUE:
            return queryset.filter(
                Exists(jobs_overdue_for_approval(now=timezone.now()).filter(post=OuterRef("pk")))
            )
        if self.value() in Post.Approval.values:
            return queryset.filter(approval=self.value())
        return queryset


class ChangesRequestForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="What should change: the author reads this on the post's page.",
    )


@admin.register(Post)
class PostAdmin(ImportExportMixin, WorkspaceScopedAdmin):
    form = PostAdminForm
    inlines = [PostPartInline, PublishJobInline]
    # Import and Export: the CSV of `import_posts` / `export_posts` (publishing/post_csv.py).
    resource_classes = [PostResource]
    # The approval queue's link; django-import-export's list extends it with its buttons.
    change_list_template = "admin/posts/post/change_list.html"
    import_formats = [CSV]
    export_formats = [CSV]
    skip_admin_log = True  # each imported post is in Audit events, as the services record it

    class Media:
        # zone_now.js changes DateTimeShortcuts, so it comes after it.
        js = [
            "admin/js/admin/DateTimeShortcuts.js",
            "posts/zone_now.js",
            "posts/parts_order.js",
            "posts/media_order.js",
            "posts/composer_preview.js",
        ]
        css = {"all": ["posts/composer_preview.css", "accounts/lists.css"]}

    # Narrow columns, so the list reads at 1,366 px: a series is one line, not its dates.
    list_display = [
        "__str__",
        "workspace",
        "status_label",
        "approval_label",
        "when_label",
        "targets_label",
        "updated_at",
    ]
    list_filter = [
        "status",
        ApprovalFilter,
        DeletedFilter,
        ("workspace", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["parts__text"]
    readonly_fields = [
        "status",
        "approval_label",
        "approval_trail",
        "when",
        "best_times",
        "targets_label",
        "published_links",
        "occurrence_link",
        "created_at",
        "updated_at",
    ]
    actions = ["publish_now", "add_to_queue", "cancel", "restore"]
    save_on_top = True
    # The list counts what its filters show; a second count of every post it could
    # show would read them all again ("12 results (1,000,000 total)").
    show_full_result_count = False

    def has_import_permission(self, request):
        return self.may(request, POST_COMPOSE)

    def has_export_permission(self, request):
        return self.may(request, WORKSPACE_VIEW)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {
            "actor": request.user,
            "workspaces": workspaces_where(user=request.user, action=POST_COMPOSE),
        }

    def get_export_resource_kwargs(self, request, **kwargs):
        return {}

    def get_import_data_kwargs(self, **kwargs):
        # All or nothing, as `import_posts` without --partial.
        kwargs.pop("form", None)
        return {**kwargs, "rollback_on_validation_errors": True}

    def get_fieldsets(self, request, obj=None):
        approval = (
            [("Approval", {"fields": ["approval_label", "approval_trail"]})]
            if obj is not None and obj.workspace.posts_need_approval
            else []
        )
        if obj is not None and not self.has_change_permission(request, obj):
            # Someone who may only look reads the plan, not an empty form of it.
            return [
                (None, {"fields": ["workspace", "targets_label", "priority", "campaign", "tags"]}),
                ("Schedule", {"fields": ["when"]}),
                *approval,
                (
                    "Outcome",
                    {"fields": ["status", "published_links", "created_at", "updated_at"]},
                ),
            ]
        fieldsets = [
            (None, {"fields": ["workspace", "accounts", "priority", "campaign", "tags"]}),
            (
                "Text per account",
                {
                    "fields": [
                        own_text_field(account)
                        for account in composer_accounts(user=request.user, post=obj or Post())
                    ],
                    "classes": ["collapse"],
                    "description": "Give an account its own text for part 1 (say, a "
                    "different wording on each of two X accounts). Empty: the post's text.",
                },
            ),
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
        schedule_fields = dict(fieldsets)["Schedule"]["fields"]
        if obj is not None and obj.status in DONE:
            schedule_fields.append("confirm_republish")
        schedule = getattr(obj, "schedule", None) if obj is not None else None
        if (
            schedule is not None
            and schedule.kind != Schedule.Kind.ONCE
            and self.may(request, POST_SCHEDULE, obj)
        ):
            schedule_fields.insert(0, "occurrence_link")
        fieldsets += approval
        if obj is not None:
            schedule_fields = next(f for name, f in fieldsets if name == "Schedule")["fields"]
            schedule_fields.append("best_times")
        if obj is not None:
            fieldsets.append(
                (
                    "Outcome",
                    {"fields": ["status", "when", "published_links", "created_at", "updated_at"]},
                )
            )
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The per-account text fields are made by the form for the person's accounts, and
        # targets are set by post_set_targets (which records what changed), so the model
        # form neither looks for the first on the model nor saves `accounts` itself.
        fields = kwargs.get("fields")
        if fields is None:
            fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [
            name for name in fields if name != "accounts" and not name.startswith("text_for_")
        ]
        form = super().get_form(request, obj, change=change, **kwargs)

        refusal = getattr(request, "kairos_refusal", None)

        class RequestForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, user=request.user, refusal=refusal, **inner)

        return RequestForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Save the post, its parts, targets and schedule together, or nothing.

        A refusal met while saving (a schedule the services refuse, a scheduled post
        whose new text a network refuses) rolls the whole save back (the view runs in
        one transaction), and the form is shown again with what the person typed and
        the reason on its field, as Django shows its own validation errors.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _SaveRefused as refused:
            request.kairos_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        overdue = jobs_overdue_for_approval(now=timezone.now()).filter(post=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .select_related("workspace", "schedule")
            .prefetch_related("parts", "targets__account")
            .annotate(overdue_for_approval=Exists(overdue))
        )

    @admin.display(description="Approval")
    def approval_label(self, post: Post) -> str:
        if not post.workspace.posts_need_approval:
            return "Not needed"
        label = post.get_approval_display()
        if getattr(post, "overdue_for_approval", False):
            return f"{label} · overdue for approval"
        return label

    @admin.display(description="Review history")
    def approval_trail(self, post: Post):
        events = approval_history(post=post)
        if not events:
            return "Not sent for review yet."
        zone = timezone.get_current_timezone()
        return format_html_join(
            mark_safe("<br>"),
            "{} · {} · {}{}",
            (
                (
                    f"{timezone.localtime(event.created_at, zone):%Y-%m-%d %H:%M:%S %Z}",
                    APPROVAL_EVENT_LABELS[event.action],
                    event.actor or "Kairos",
                    f": “{event.message}”" if event.message else "",
                )
                for event in events
            ),
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

    @admin.display(description="Status", ordering="status")
    def status_label(self, post: Post) -> str:
        """A series' status says it goes on, with its last occurrence's outcome (the
        post's status is rolled up from its latest occurrence's jobs)."""
        schedule = getattr(post, "schedule", None)
        if schedule is None or schedule.kind == Schedule.Kind.ONCE:
            return post.get_status_display()
        series = {
            Schedule.Status.ACTIVE: "Series goes on",
            Schedule.Status.PAUSED: "Series paused",
        }.get(schedule.status, "Series ended")
        if not schedule.occurrence_count:
            return f"{series} · none sent yet"
        return f"{series} · last: {post.get_status_display()}"

    @admin.display(description="When")
    def when_label(self, post: Post) -> str:
        """The next time it goes out, in its zone; for a series, how many went out."""
        schedule = getattr(post, "schedule", None)
        if schedule is None:
            return "Not scheduled"
        instant = schedule.next_occurrence_at or schedule.last_occurrence_at
        if instant is None:
            instant = schedule.start_utc
        local = instant.astimezone(schedule.zone)
        at = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        if schedule.kind == Schedule.Kind.ONCE:
            return at
        sent = f"{schedule.occurrence_count} so far"
        if schedule.next_occurrence_at is None:
            return f"Last {at} · {sent}"
        return f"Next {at} · {sent}"

    @admin.display(description="One occurrence")
    def occurrence_link(self, post: Post):
        url = reverse("admin:scheduling_schedule_occurrence", args=[post.schedule.pk])
        return format_html('<a href="{}">Skip or move one occurrence…</a>', url)

    @admin.display(description="Suggested times")
    def best_times(self, post: Post):
        """A read-only hint from each account's history (analytics/best_times.py)."""
        accounts = [target.account for target in post.targets.all()]
        if not accounts:
            return "Choose accounts and save: their best times to post appear here."
        return format_html_join(
            mark_safe("<br>"),
            "{}",
            ((line,) for line in best_times_hint(accounts=accounts, now=timezone.now())),
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
        # What was approved, read before anything of the post is written.
        request.kairos_content_before = post_content_fingerprint(post_id=obj.pk) if change else None
        if not change:
            obj.author = request.user
        obj.text_variants = form.cleaned_data["variants"]
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        post_set_targets(
            post=post,
            accounts=form.cleaned_data["accounts"],
            actor=request.user,
            texts=form.own_texts(),
        )
        post.refresh_from_db()
        self._approval_recheck(request, post)
        if not form.schedule_requested():
            self._unscheduled_check(request, post)
            return
        arguments = form.schedule_arguments()
        try:
            schedule = schedule_set(
                post=post,
                actor=request.user,
                republish=form.cleaned_data["confirm_republish"],
                **arguments,
            )
        except ValidationError as exc:
            raise _SaveRefused(exc) from exc
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

    def save_formset(self, request, form, formset, change):
        if formset.model is not PostPart:
            return super().save_formset(request, form, formset, change)
        _parts_save_in_order(formset, actor=request.user)

    def _approval_recheck(self, request, post: Post) -> None:
        """An approved post whose content this save changed goes back to review."""
        before = getattr(request, "kairos_content_before", None)
        if before is None or before == post_content_fingerprint(post_id=post.pk):
            return
        if post_content_edited(post=post, actor=request.user):
            messages.warning(
                request,
                "The post was approved; after this edit it waits for an approver again "
                "and does not go out until approved.",
            )

    def _unscheduled_check(self, request, post: Post) -> None:
        """An edit that does not reschedule: a post still going out must still be
        publishable as edited (or nothing is saved); a draft is saved, with what would
        stop it shown."""
        schedule = getattr(post, "schedule", None)
        going_out = schedule is not None and schedule.status in (
            Schedule.Status.ACTIVE,
            Schedule.Status.PAUSED,
        )
        if not (going_out or post.targets.exists()):
            return
        problems = post_problems(post=post)
        if problems and going_out:
            raise _SaveRefused(ValidationError(problems))
        if problems:
            messages.warning(
                request, f"Saved as a draft. Before it can go out: {' '.join(problems)}"
            )

    def delete_model(self, request, obj):
        post_soft_delete(post=obj, actor=request.user)

    # --- Approval: the post page's buttons and the approvers' queue ----------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            # The composer's live counters and preview (posts/views.py).
            path("preview/", view(composer_preview), name="posts_post_preview"),
            path(
                "approval-queue/",
                view(self.approval_queue_view),
                name="posts_post_approval_queue",
            ),
            path(
                "<int:post_id>/review-request/",
                view(self.review_request_view),
                name="posts_post_review_request",
            ),
            path("<int:post_id>/approve/", view(self.approve_view), name="posts_post_approve"),
            path(
                "<int:post_id>/request-changes/",
                view(self.changes_request_view),
                name="posts_post_changes_request",
            ),
            *super().get_urls(),
        ]

    def _post_for_approval(self, request, post_id: int) -> Post:
        # Another workspace's post is not found, as everywhere.
        return get_object_or_404(self.get_queryset(request).alive(), pk=post_id)

    def _approval_step(self, request, post: Post, step, done: str, **arguments):
        """Run one approval service for the person; say what happened or why not."""
        try:
            step(post=post, actor=request.user, **arguments)
        except PermissionDenied as refusal:
            self.message_user(request, f"{post}: {refusal}", messages.ERROR)
            return False
        except ValidationError as refusal:
            self.message_user(request, f"{post}: {' '.join(refusal.messages)}", messages.ERROR)
            return False
        self.message_user(request, f"{post}: {done}", messages.SUCCESS)
        return True

    def _back(self, request, post: Post):
        if request.POST.get("next") == "queue":
            return redirect("admin:posts_post_approval_queue")
        return redirect("admin:posts_post_change", post.pk)

    def review_request_view(self, request, post_id: int):
        if request.method != "POST":
            return redirect("admin:posts_post_change", post_id)
        post = self._post_for_approval(request, post_id)
        self._approval_step(
            request, post, post_review_request, "sent for review; approvers see it in their queue."
        )
        return self._back(request, post)

    def approve_view(self, request, post_id: int):
        if request.method != "POST":
            return redirect("admin:posts_post_change", post_id)
        post = self._post_for_approval(request, post_id)
        self._approval_step(request, post, post_approve, "approved; it goes out at its time.")
        return self._back(request, post)

    def changes_request_view(self, request, post_id: int):
        post = self._post_for_approval(request, post_id)
        if not self.may(request, POST_APPROVE, post):
            raise PermissionDenied
        form = ChangesRequestForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and self._approval_step(
                request,
                post,
                post_changes_request,
                "sent back to its author with your comment.",
                comment=form.cleaned_data["comment"],
            )
        ):
            return self._back(request, post)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Request changes to {post}",
            "post": post,
            "form": form,
            "opts": self.model._meta,
            "next": request.GET.get("next") or request.POST.get("next", ""),
        }
        return TemplateResponse(request, "admin/posts/post/request_changes.html", context)

    def approval_queue_view(self, request):
        posts = list(
            posts_awaiting_approval(user=request.user)
            .select_related("workspace", "author")
            .prefetch_related("parts", "targets__account")[:200]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Waiting for your approval",
            "posts": posts,
            "now": timezone.now(),
            "zone": timezone.get_current_timezone(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/posts/post/approval_queue.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        post = self.get_object(request, object_id)
        if post is not None and post.workspace.posts_need_approval:
            A = Post.Approval
            extra_context = {
                **(extra_context or {}),
                "may_request_review": post.approval in (A.DRAFT, A.CHANGES_REQUESTED)
                and self.may(request, POST_COMPOSE, post),
                "may_decide": post.approval == A.IN_REVIEW
                and self.may(request, POST_APPROVE, post),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_approve": self.may(request, POST_APPROVE),
        }
        return super().changelist_view(request, extra_context)

    def delete_queryset(self, request, queryset):
        for post in queryset:
            post_soft_delete(post=post, actor=request.user)

    @admin.action(description="Publish now", permissions=["post_publish"])
    def publish_now(self, request, queryset):
        posts = list(self.permitted(request, queryset, POST_PUBLISH))
        confirmed = request.POST.get("republish") == "yes"
        finished = []
        for post in posts:
            try:
                post_republish_check(post=post, confirmed=confirmed)
            except RepublishUnconfirmed as refusal:
                finished.append((post, refusal.message))
        if finished:
            return TemplateResponse(
                request,
                "admin/posts/post/republish_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Publish again?",
                    "finished": finished,
                    "others": [post for post in posts if post not in dict(finished)],
                    "selected": posts,
                    "opts": self.model._meta,
                },
            )
        for post in posts:
            try:
                created = post_publish_now(
                    post=post, actor=request.user, now=timezone.now(), republish=confirmed
                )
            except ValidationError as exc:
                self.message_user(
                    request, f"{post}: not published: {' '.join(exc.messages)}", messages.ERROR
                )
                continue
            if post_awaits_approval(post=post):
                self.message_user(
                    request,
                    f"{post}: {created} job(s) made, waiting for approval: it goes out once "
                    "approved (or is missed past the workspace's window).",
                    messages.WARNING,
                )
                continue
            self.message_user(
                request, f"{post}: publishing to {created} account(s) now.", messages.SUCCESS
            )

    @admin.action(
        description="Add to queue (next free slot of its accounts)", permissions=["post_schedule"]
    )
    def add_to_queue(self, request, queryset):
        for post in self.permitted(request, queryset, POST_SCHEDULE):
            try:
                schedule = post_add_to_queue(post=post, actor=request.user)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
                self.message_user(request, f"{post}: not queued: {problem}", messages.ERROR)
                continue
            local = schedule.next_occurrence_at.astimezone(schedule.zone)
            accounts = [target.account for target in post.targets.select_related("account")]
            hints = "; ".join(best_times_hint(accounts=accounts, now=timezone.now()))
            self.message_user(
                request,
                f"{post}: queued for {local:%a %d %b %H:%M} {schedule.timezone}. "
                f"Suggested times: {hints}.",
            )

    @admin.action(description="Cancel publishing", permissions=["post_publish"])
    def cancel(self, request, queryset):
        for post in self.permitted(request, queryset, POST_PUBLISH):
            outcome = post_cancel(post=post, actor=request.user)
            level = messages.WARNING if outcome.still_running else messages.SUCCESS
            self.message_user(request, f"{post}: {outcome.message()}", level)

    @admin.action(description="Restore deleted posts", permissions=["post_compose"])
    def restore(self, request, queryset):
        for post in self.permitted(request, queryset, POST_COMPOSE).filter(
            deleted_at__isnull=False
        ):
            post_restore(post=post, actor=request.user)
            self.message_user(request, f"{post}: restored as a draft.", messages.SUCCESS)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["workspace", "name"]

    def clean(self):
        cleaned = super().clean()
        workspace, name = cleaned.get("workspace"), cleaned.get("name")
        if workspace is not None and name is not None:
            try:
                cleaned["name"] = tag_name_clean(
                    workspace_id=workspace.pk, name=name, tag_id=self.instance.pk
                )
            except ValidationError as refusal:
                self.add_error(None, refusal)
        return cleaned


@admin.register(Tag)
class TagAdmin(ServiceSavedAdmin):
    form = TagForm
    list_display = ["name", "workspace"]
    search_fields = ["name"]
    fields_fixed = ("workspace",)

    def row_create(self, request, values: dict) -> Tag:
        return tag_create(workspace=values["workspace"], name=values["name"], actor=request.user)

    def row_change(self, request, row: Tag, values: dict) -> Tag:
        return tag_rename(tag=row, name=values.get("name", row.name), actor=request.user)

    def row_delete(self, request, row: Tag) -> None:
        tag_delete(tag=row, actor=request.user)


@admin.register(Campaign)
class CampaignAdmin(ServiceSavedAdmin):
    list_display = ["name", "workspace", "starts_on", "ends_on", "timezone"]
    actions = ["distribute"]
    fields_fixed = ("workspace",)

    def row_create(self, request, values: dict) -> Campaign:
        return campaign_create(actor=request.user, **values)

    def row_change(self, request, row: Campaign, values: dict) -> Campaign:
        return campaign_update(campaign=row, actor=request.user, **values)

    def row_delete(self, request, row: Campaign) -> None:
        campaign_delete(campaign=row, actor=request.user)

    @admin.action(
        description="Distribute its posts over its days (19:00 local)",
        permissions=["post_schedule"],
    )
    def distribute(self, request, queryset):
        for campaign in self.permitted(request, queryset, POST_SCHEDULE):
            try:
                schedules = campaign_distribute(campaign=campaign, actor=request.user)
            except ValidationError as exc:
                problem = " ".join(exc.messages)
                self.message_user(request, f"{campaign}: {problem}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{campaign}: {len(schedules)} post(s) scheduled over its days."
                )


class MediaAssetForm(forms.ModelForm):
    class Meta:
        model = MediaAsset
        fields = ["workspace", "file", "alt_text"]

    def clean_file(self):
        file = self.cleaned_data["file"]
        if "file" in self.changed_data:
            self.facts = media_facts_read(file=file)
        return file


@admin.register(MediaAsset)
class MediaAssetAdmin(WorkspaceScopedAdmin):
    """The library. What a file is (kind, type, size, dimensions, duration) is read from
    the file when it is uploaded, never typed."""

    form = MediaAssetForm
    list_display = ["thumbnail", "__str__", "workspace", "kind", "size_label", "alt_text"]
    list_filter = ["kind", ("workspace", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["file", "alt_text"]
    readonly_fields = ["kind", "mime_type", "size_bytes", "width", "height", "duration_ms"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["workspace", "file", "alt_text"]
        return ["workspace", "file", "alt_text", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # A file is replaced by uploading another, not edited in place.
        return ["workspace", "file", *self.readonly_fields] if obj else []

    @admin.display(description="")
    def thumbnail(self, asset: MediaAsset) -> str:
        return media_label(asset)

    @admin.display(description="Size", ordering="size_bytes")
    def size_label(self, asset: MediaAsset) -> str:
        return f"{asset.size_bytes / 1024 / 1024:.1f} MiB"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = media_asset_create(
            workspace=form.cleaned_data["workspace"],
            file=form.cleaned_data["file"],
            actor=request.user,
            alt_text=form.cleaned_data["alt_text"],
        )
        obj.pk, obj.file = created.pk, created.file
