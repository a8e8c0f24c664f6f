from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from accounts.admin import WorkspaceScopedAdmin, WorkspaceScopedInline
from accounts.permissions import POST_PUBLISH
from publishing.beat import KAIROS_PREFIX, beat_entry_is_kairos, beat_intervals_of_kairos
from publishing.models import JobStatus, PublishAttempt, PublishJob, SandboxPost
from publishing.services import (
    PostNotDeleted,
    job_cancel,
    job_delete_published,
    job_mark_published,
    job_retry,
)


class MarkPublishedForm(forms.Form):
    url = forms.URLField(
        assume_scheme="https",
        label="Link of the post",
        max_length=500,
        help_text="Open the account on the network, find the post, and paste its link.",
    )


class PublishAttemptInline(WorkspaceScopedInline, admin.TabularInline):
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

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PublishJob)
class PublishJobAdmin(WorkspaceScopedAdmin):
    workspace_path = "post__workspace"
    # Jobs are settled (cancelled, retried, marked published) by those who publish.
    change_action = POST_PUBLISH
    list_display = [
        "id",
        "post",
        "account",
        "status",
        "occurrence_at",
        "lateness",
        "attempt_count",
        "list_link",
    ]
    list_filter = ["status", "account__network", "error_kind"]
    list_select_related = ["post", "account"]
    search_fields = ["external_id", "post__parts__text"]
    date_hierarchy = "occurrence_at"
    inlines = [PublishAttemptInline]
    actions = ["retry", "cancel", "delete_from_network"]
    change_form_template = "admin/publishing/publishjob/change_form.html"

    class Media:
        css = {"all": ["accounts/lists.css"]}

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
        "lateness",
        "metrics_due_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Late by")
    def lateness(self, job: PublishJob) -> str:
        """How long after its time the post went out (published − due), to the millisecond."""
        if job.published_at is None:
            return "—"
        late = (job.published_at - job.due_at).total_seconds()
        return f"{late:.3f} s" if late >= 0 else f"{-late:.3f} s early"

    @admin.display(description="Published post")
    def list_link(self, job: PublishJob):
        """The link in a list: short, its address in its title (a network's addresses are
        long, and the list must read at 1,366 px)."""
        if not job.external_url:
            return "—"
        return format_html('<a href="{0}" title="{0}" target="_blank">Open ↗</a>', job.external_url)

    @admin.display(description="Published post")
    def link(self, job: PublishJob):
        if not job.external_url:
            return "—"
        return format_html('<a href="{0}" target="_blank">{0}</a>', job.external_url)

    def get_urls(self):
        return [
            path(
                "<int:job_id>/mark-published/",
                self.admin_site.admin_view(self.mark_published_view),
                name="publishing_publishjob_mark_published",
            ),
            *super().get_urls(),
        ]

    def mark_published_view(self, request, job_id: int):
        job = get_object_or_404(self.get_queryset(request), pk=job_id)
        if not self.may(request, POST_PUBLISH, job):
            raise PermissionDenied
        change_url = reverse("admin:publishing_publishjob_change", args=[job.pk])
        form = MarkPublishedForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                marked = job_mark_published(
                    job=job, url=form.cleaned_data["url"], actor=request.user
                )
            except ValidationError as exc:
                form.add_error("url", exc.message_dict["url"])
            else:
                if marked:
                    self.message_user(request, f"Job {job.pk} is recorded as published.")
                else:
                    self.message_user(
                        request,
                        f"Job {job.pk} is {job.get_status_display().lower()} now, no longer "
                        "waiting for review; nothing was changed.",
                        messages.WARNING,
                    )
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Mark job {job.pk} as published",
            "job": job,
            "form": form,
            "opts": self.model._meta,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/publishing/publishjob/mark_published.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "needs_review": JobStatus.NEEDS_REVIEW}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(
        description="Cancel (jobs not yet running, or waiting for review)",
        permissions=["post_publish"],
    )
    def cancel(self, request, queryset):
        for job in self.permitted(request, queryset, POST_PUBLISH).select_related(
            "post__workspace"
        ):
            if job_cancel(job=job, actor=request.user):
                self.message_user(request, f"Job {job.pk} is cancelled.", messages.SUCCESS)
            else:
                self.message_user(
                    request,
                    f"Job {job.pk} is {job.get_status_display().lower()}; it can no longer "
                    "be cancelled.",
                    messages.WARNING,
                )

    @admin.action(
        description="Delete the published post from the network", permissions=["post_publish"]
    )
    def delete_from_network(self, request, queryset):
        for job in self.permitted(request, queryset, POST_PUBLISH).select_related(
            "account", "post__workspace"
        ):
            try:
                job_delete_published(job=job, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.WARNING)
            except PostNotDeleted as exc:
                self.message_user(request, f"Job {job.pk}: {exc.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Job {job.pk}: the post is deleted from {job.account.get_network_display()}.",
                    messages.SUCCESS,
                )

    @admin.action(
        description="Retry (failed, missed or needs-review jobs only)", permissions=["post_publish"]
    )
    def retry(self, request, queryset):
        for job in self.permitted(request, queryset, POST_PUBLISH).select_related(
            "post__workspace"
        ):
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


# --- django-celery-beat: Kairos's own machinery ------------------------------------------
# Beat's tables are the operator's: superusers only. The entries Kairos keeps there (and
# the intervals they run on) are read-only even for them: unticking "enabled" on the
# dispatch tick would stop all publishing. publishing/beat.py puts them back on start.


class SuperuserOnlyAdmin:
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class KairosPeriodicTaskAdmin(SuperuserOnlyAdmin, beat_admin.PeriodicTaskAdmin):
    def has_change_permission(self, request, obj=None):
        kept = obj is not None and beat_entry_is_kairos(obj)
        return super().has_change_permission(request, obj) and not kept

    def has_delete_permission(self, request, obj=None):
        kept = obj is not None and beat_entry_is_kairos(obj)
        return super().has_delete_permission(request, obj) and not kept

    def _others(self, request, queryset):
        kept = queryset.filter(name__startswith=KAIROS_PREFIX)
        if kept.exists():
            self.message_user(
                request,
                f"{kept.count()} of Kairos's own entries left as they are: publishing needs them.",
                messages.WARNING,
            )
        return queryset.exclude(name__startswith=KAIROS_PREFIX)

    @admin.action(description=beat_admin.PeriodicTaskAdmin.disable_tasks.short_description)
    def disable_tasks(self, request, queryset):
        return super().disable_tasks(request, self._others(request, queryset))

    @admin.action(description=beat_admin.PeriodicTaskAdmin.toggle_tasks.short_description)
    def toggle_tasks(self, request, queryset):
        return super().toggle_tasks(request, self._others(request, queryset))


class KairosIntervalScheduleAdmin(SuperuserOnlyAdmin, beat_admin.IntervalScheduleAdmin):
    def has_change_permission(self, request, obj=None):
        kept = obj is not None and obj.pk in beat_intervals_of_kairos()
        return super().has_change_permission(request, obj) and not kept

    def has_delete_permission(self, request, obj=None):
        kept = obj is not None and obj.pk in beat_intervals_of_kairos()
        return super().has_delete_permission(request, obj) and not kept


for _model, _admin_class in (
    (beat_models.PeriodicTask, KairosPeriodicTaskAdmin),
    (beat_models.IntervalSchedule, KairosIntervalScheduleAdmin),
    *(
        (model, type(f"SuperuserOnly{model.__name__}Admin", (SuperuserOnlyAdmin, base), {}))
        for model, base in (
            (beat_models.CrontabSchedule, beat_admin.CrontabScheduleAdmin),
            (beat_models.SolarSchedule, beat_admin.SolarScheduleAdmin),
            (beat_models.ClockedSchedule, beat_admin.ClockedScheduleAdmin),
        )
    ),
):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
