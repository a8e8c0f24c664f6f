from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget, AdminTimeWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.admin import ServiceSavedAdmin, WorkspaceScopedAdmin, WorkspaceScopedInline
from accounts.permissions import POST_SCHEDULE
from publishing.limits import duration_words
from publishing.slots import slot_change, slot_create, slot_delete
from scheduling.limits import (
    LIMIT_FIELDS,
    posting_limit_create,
    posting_limit_delete,
    posting_limit_problems,
    posting_limit_update,
)
from scheduling.models import OccurrenceChange, PostingLimit, QueueSlot, Schedule
from scheduling.selectors import schedule_summary, schedule_upcoming
from scheduling.services import (
    schedule_end,
    schedule_occurrence_move,
    schedule_occurrence_skip,
    schedule_pause,
    schedule_resume,
)

# How many upcoming occurrences the "change one occurrence" page offers.
OCCURRENCES_OFFERED = 30


def schedule_summary_html(schedule: Schedule):
    """The rule in words, its zone, and the next occurrences, local and UTC."""
    summary = schedule_summary(schedule=schedule, now=timezone.now())
    rows = format_html_join(
        "",
        "<li>{} <span style='color:#666'>({} UTC)</span></li>",
        (
            (f"{item['local']:%a %d %b %Y %H:%M %Z}", f"{item['utc']:%Y-%m-%d %H:%M}")
            for item in summary["next"]
        ),
    )
    return format_html(
        "<strong>{}</strong> · {}<br>Next: <ul style='margin:4px 0 0 16px'>{}</ul>",
        summary["description"],
        schedule.get_status_display(),
        rows or mark_safe("<li>none</li>"),
    )


def occurrence_label(instant: datetime, schedule: Schedule) -> str:
    local = instant.astimezone(schedule.zone)
    return f"{local:%a %Y-%m-%d %H:%M:%S} {schedule.timezone} ({instant:%Y-%m-%d %H:%M:%S} UTC)"


class OccurrenceChangeForm(forms.Form):
    """Skip one upcoming occurrence of a series (an EXDATE), or move it to another wall
    time in the schedule's zone; the rule itself stays as it is."""

    SKIP, MOVE = "skip", "move"
    occurrence = forms.ChoiceField(label="Occurrence")
    change = forms.ChoiceField(
        choices=[(SKIP, "Skip it: leave this date out"), (MOVE, "Move it to the time below")],
        widget=forms.RadioSelect,
        initial=SKIP,
    )
    local_date = forms.DateField(required=False, widget=AdminDateWidget, label="New date")
    local_time = forms.TimeField(
        required=False, widget=AdminTimeWidget(format="%H:%M:%S"), label="New time"
    )

    def __init__(self, *args, schedule: Schedule, now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule = schedule
        upcoming = schedule_upcoming(schedule=schedule, after=now, count=OCCURRENCES_OFFERED)
        self.fields["occurrence"].choices = [
            (instant.isoformat(), occurrence_label(instant, schedule)) for instant in upcoming
        ]
        self.fields["local_time"].help_text = f"Wall-clock time in {schedule.timezone}."

    def clean_occurrence(self) -> datetime:
        return datetime.fromisoformat(self.cleaned_data["occurrence"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("change") == self.MOVE:
            for name in ("local_date", "local_time"):
                if not cleaned.get(name):
                    self.add_error(name, "Give the date and time to move the occurrence to.")
        return cleaned

    def apply(self, *, actor) -> str:
        """Make the change through the schedule's services; what happened, in words.
        Raises ValidationError as the services do."""
        data = self.cleaned_data
        label = occurrence_label(data["occurrence"], self.schedule)
        if data["change"] == self.SKIP:
            schedule_occurrence_skip(
                schedule=self.schedule, occurrence_at=data["occurrence"], actor=actor
            )
            return f"{label} is skipped; the series goes on."
        moved = schedule_occurrence_move(
            schedule=self.schedule,
            occurrence_at=data["occurrence"],
            local_date=data["local_date"],
            local_time=data["local_time"],
            actor=actor,
        )
        moved_to = moved.changes.get(original_at=data["occurrence"]).moved_to
        return f"{label} is moved to {occurrence_label(moved_to, moved)}."

    def refusal_show(self, refusal: ValidationError) -> None:
        """A service's refusal on the field it names."""
        fields = {"occurrence_at": "occurrence", "moved_to": "local_date"}
        if not hasattr(refusal, "error_dict"):
            self.add_error(None, refusal.messages)
            return
        for name, errors in refusal.message_dict.items():
            self.add_error(fields.get(name), errors)


class OccurrenceChangeInline(WorkspaceScopedInline, admin.TabularInline):
    model = OccurrenceChange
    fields = ["original_at", "moved_to", "created_at"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "Skipped or moved occurrences (UTC)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Schedule)
class ScheduleAdmin(WorkspaceScopedAdmin):
    workspace_path = "post__workspace"
    change_action = POST_SCHEDULE
    # The rule in words names its zone; with the next occurrence (local and UTC) the
    # list reads at 1,366 px.
    list_display = ["post", "summary_line", "next_label", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["post"]
    readonly_fields = [
        "post",
        "kind",
        "summary",
        "local_label",
        "timezone",
        "utc_label",
        "status",
        "next_occurrence_at",
        "last_occurrence_at",
        "occurrence_count",
    ]
    fields = readonly_fields
    inlines = [OccurrenceChangeInline]
    actions = ["pause", "resume", "skip_next", "end"]

    class Media:
        css = {"all": ["accounts/lists.css"]}

    def get_urls(self):
        return [
            path(
                "<int:schedule_id>/occurrence/",
                self.admin_site.admin_view(self.occurrence_change_view),
                name="scheduling_schedule_occurrence",
            ),
            *super().get_urls(),
        ]

    def occurrence_change_view(self, request, schedule_id: int):
        """Skip or move one occurrence: for those who may change plans in the schedule's
        workspace; another workspace's schedule is not found."""
        schedule = self.get_queryset(request).filter(pk=schedule_id).first()
        if schedule is None:
            raise Http404("No such schedule in your workspaces.")
        if not self.may(request, POST_SCHEDULE, schedule):
            raise PermissionDenied
        if schedule.kind == Schedule.Kind.ONCE:
            raise Http404("A one-off post has no occurrences to skip or move.")
        change_url = reverse("admin:scheduling_schedule_change", args=[schedule.pk])
        form = OccurrenceChangeForm(request.POST or None, schedule=schedule, now=timezone.now())
        if request.method == "POST" and form.is_valid():
            try:
                done = form.apply(actor=request.user)
            except ValidationError as refusal:
                form.refusal_show(refusal)
            else:
                self.message_user(request, f"{schedule.post}: {done}", messages.SUCCESS)
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Skip or move one occurrence of “{schedule.post}”",
            "schedule": schedule,
            "summary": schedule_summary_html(schedule),
            "form": form,
            "media": self.media + form.media,
            "opts": self.model._meta,
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/scheduling/schedule/occurrence_change.html", context
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        schedule = self.get_queryset(request).filter(pk=object_id).first()
        may_change = (
            schedule is not None
            and schedule.kind != Schedule.Kind.ONCE
            and self.may(request, POST_SCHEDULE, schedule)
        )
        extra_context = {**(extra_context or {}), "may_change_occurrences": may_change}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Rule")
    def summary_line(self, schedule: Schedule) -> str:
        return schedule_summary(schedule=schedule, now=timezone.now(), count=0)["description"]

    @admin.display(description="Rule and next occurrences")
    def summary(self, schedule: Schedule):
        return schedule_summary_html(schedule)

    @admin.action(description="Pause", permissions=["post_schedule"])
    def pause(self, request, queryset):
        for schedule in self.permitted(request, queryset, POST_SCHEDULE):
            if schedule_pause(schedule=schedule, actor=request.user):
                self.message_user(request, f"{schedule.post}: paused.")

    @admin.action(
        description="Resume (occurrences missed while paused are not made up)",
        permissions=["post_schedule"],
    )
    def resume(self, request, queryset):
        for schedule in self.permitted(request, queryset, POST_SCHEDULE):
            if schedule_resume(schedule=schedule, actor=request.user):
                self.message_user(request, f"{schedule.post}: resumed.")

    @admin.action(description="Skip the next occurrence", permissions=["post_schedule"])
    def skip_next(self, request, queryset):
        for schedule in self.permitted(request, queryset, POST_SCHEDULE):
            if schedule.next_occurrence_at is None:
                continue
            try:
                schedule_occurrence_skip(
                    schedule=schedule, occurrence_at=schedule.next_occurrence_at, actor=request.user
                )
            except ValidationError as exc:
                self.message_user(
                    request, f"{schedule.post}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                self.message_user(request, f"{schedule.post}: the next occurrence is skipped.")

    @admin.action(description="End the series", permissions=["post_schedule"])
    def end(self, request, queryset):
        for schedule in self.permitted(request, queryset, POST_SCHEDULE):
            schedule_end(schedule=schedule, actor=request.user)
            self.message_user(request, f"{schedule.post}: ended; nothing more goes out.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Next occurrence", ordering="next_occurrence_at")
    def next_label(self, schedule: Schedule) -> str:
        """The next occurrence in the schedule's zone and in UTC; for a series, how many
        went out so far."""
        sent = (
            "" if schedule.kind == Schedule.Kind.ONCE else f" · {schedule.occurrence_count} so far"
        )
        instant = schedule.next_occurrence_at
        if instant is None:
            return f"None{sent}"
        local = instant.astimezone(schedule.zone)
        return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()} ({instant:%H:%M} UTC){sent}"

    @admin.display(description="Local time")
    def local_label(self, schedule: Schedule) -> str:
        return f"{schedule.start_wall:%a %d %b %Y %H:%M:%S}"

    @admin.display(description="UTC")
    def utc_label(self, schedule: Schedule) -> str:
        return f"{schedule.start_utc:%Y-%m-%d %H:%M:%S} UTC"


class AccountScopedAdmin(ServiceSavedAdmin):
    """Rows of an account (its plans for posting): changed by those who schedule."""

    workspace_path = "account__workspace"
    change_action = POST_SCHEDULE
    list_select_related = ["account__workspace"]
    search_fields = ["account__handle"]


@admin.register(QueueSlot)
class QueueSlotAdmin(AccountScopedAdmin):
    list_display = ["account", "weekday", "local_time_label", "zone_label"]
    list_filter = ["weekday"]
    fields = ["account", "weekday", "local_time"]

    def row_create(self, request, values: dict) -> QueueSlot:
        return slot_create(actor=request.user, **values)

    def row_change(self, request, row: QueueSlot, values: dict) -> QueueSlot:
        return slot_change(slot=row, actor=request.user, **values)

    def row_delete(self, request, row: QueueSlot) -> None:
        slot_delete(slot=row, actor=request.user)

    @admin.display(description="Local time", ordering="local_time")
    def local_time_label(self, slot: QueueSlot) -> str:
        return f"{slot.local_time:%H:%M}"

    @admin.display(description="Zone (the workspace's)")
    def zone_label(self, slot: QueueSlot) -> str:
        return slot.account.workspace.default_timezone


class PostingLimitForm(forms.ModelForm):
    class Meta:
        model = PostingLimit
        fields = ["account", "min_spacing", "max_per_hour", "max_per_day"]
        help_texts = {
            "min_spacing": "Empty: none. hh:mm:ss, e.g. 00:15:00 for 15 minutes.",
            "max_per_hour": "Empty: no cap. Counted over any 60 minutes.",
            "max_per_day": "Empty: no cap. Counted over any 24 hours.",
        }

    def clean(self):
        cleaned = super().clean()
        problems = posting_limit_problems(**{name: cleaned.get(name) for name in LIMIT_FIELDS})
        for name, problem in problems.items():
            if name not in self.errors:
                self.add_error(name, problem)
        return cleaned


@admin.register(PostingLimit)
class PostingLimitAdmin(AccountScopedAdmin):
    form = PostingLimitForm
    list_display = ["account", "spacing_label", "per_hour_label", "per_day_label"]
    fields_fixed = ("account",)

    def row_create(self, request, values: dict) -> PostingLimit:
        return posting_limit_create(actor=request.user, **values)

    def row_change(self, request, row: PostingLimit, values: dict) -> PostingLimit:
        return posting_limit_update(limit=row, actor=request.user, **values)

    def row_delete(self, request, row: PostingLimit) -> None:
        posting_limit_delete(limit=row, actor=request.user)

    @admin.display(description="Posts at least", ordering="min_spacing")
    def spacing_label(self, limit: PostingLimit) -> str:
        if not limit.min_spacing:
            return "—"
        return f"{duration_words(limit.min_spacing)} apart"

    @admin.display(description="At most per hour", ordering="max_per_hour")
    def per_hour_label(self, limit: PostingLimit) -> str:
        return f"{limit.max_per_hour} in any 60 minutes" if limit.max_per_hour else "—"

    @admin.display(description="At most per day", ordering="max_per_day")
    def per_day_label(self, limit: PostingLimit) -> str:
        return f"{limit.max_per_day} in any 24 hours" if limit.max_per_day else "—"
