from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from accounts.admin import ReadOnlyAdmin, WorkspaceScopedAdmin, WorkspaceScopedInline
from accounts.events import EVENT_TYPES
from accounts.models import Notification, NotificationPreference, WebhookDelivery, WebhookEndpoint
from accounts.permissions import POST_PUBLISH, WORKSPACE_MANAGE
from publishing.beat import KAIROS_PREFIX, beat_entry_is_kairos, beat_intervals_of_kairos
from publishing.models import JobStatus, PublishAttempt, PublishJob, SandboxPost
from publishing.notifications import (
    KINDS,
    notification_preferences_set,
    notifications_for,
    notifications_mark_read,
)
from publishing.services import (
    PostNotDeleted,
    job_cancel,
    job_delete_published,
    job_mark_published,
    job_retry,
)
from publishing.webhooks import (
    WebhookError,
    event_id_of,
    webhook_delivery_send_again,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_enable,
    webhook_url_refusal,
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


# --- Webhooks and notifications -------------------------------------------------------


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(assume_scheme="https", max_length=500)
    events = forms.MultipleChoiceField(
        choices=[(name, f"{name}: {meaning}") for name, meaning in EVENT_TYPES.items()],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["workspace", "url", "description", "events", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        refusal = webhook_url_refusal(url)
        if refusal:
            raise forms.ValidationError(refusal)
        return url


class OwnersOnlyAdmin(WorkspaceScopedAdmin):
    """Rows only a workspace's owners see: webhook endpoints hold where its events go."""

    change_action = WORKSPACE_MANAGE
    view_action = WORKSPACE_MANAGE


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OwnersOnlyAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "workspace", "events_wanted", "active", "failure_count", "deliveries"]
    list_filter = ["active", ("workspace", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = ["failure_count", "disabled_at", "created_at"]
    actions = ["enable_again"]

    def get_readonly_fields(self, request, obj=None):
        # The workspace of an endpoint is where its events come from: fixed once made.
        return [*self.readonly_fields, *(["workspace"] if obj else [])]

    @admin.display(description="Events")
    def events_wanted(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events) or "every event"

    @admin.display(description="Deliveries")
    def deliveries(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:accounts_webhookdelivery_changelist")
        return format_html('<a href="{}?endpoint__id__exact={}">log</a>', url, endpoint.pk)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            new = webhook_endpoint_create(
                workspace=obj.workspace,
                url=obj.url,
                description=obj.description,
                events=form.cleaned_data["events"],
                actor=request.user,
            )
        except (WebhookError, ValidationError) as error:
            raise ValidationError(str(error)) from error
        form.instance = obj = new.endpoint
        # Shown on the page that answers this request, never stored in a message.
        request.kairos_new_secret = new.secret

    def save_related(self, request, form, formsets, change):
        if change:  # A new endpoint was audited by webhook_endpoint_create.
            super().save_related(request, form, formsets, change)

    def response_add(self, request, obj, post_url_continue=None):
        return TemplateResponse(
            request,
            "admin/accounts/webhookendpoint/secret.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "endpoint": obj,
                "secret": request.kairos_new_secret,
                "title": "Webhook endpoint made: copy its secret now",
            },
        )

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj, actor=request.user)

    @admin.action(
        description="Enable again (after fixing the receiver)", permissions=["workspace_manage"]
    )
    def enable_again(self, request, queryset):
        enabled = sum(
            webhook_endpoint_enable(endpoint=endpoint, actor=request.user)
            for endpoint in self.permitted(request, queryset, WORKSPACE_MANAGE)
        )
        self.message_user(request, f"Enabled {enabled} endpoint(s).")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin, OwnersOnlyAdmin):
    workspace_path = "endpoint__workspace"
    list_display = [
        "created_at",
        "event_type",
        "event_id",
        "endpoint",
        "status",
        "attempt_count",
        "response_code",
        "next_try_at",
        "last_error",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    readonly_fields = [*list_display, "delivered_at"]
    fields = readonly_fields
    actions = ["send_again"]

    @admin.display(description="Event id (webhook-id)")
    def event_id(self, delivery: WebhookDelivery) -> str:
        return event_id_of(delivery.event)

    @admin.action(description="Send again", permissions=["workspace_manage"])
    def send_again(self, request, queryset):
        again = sum(
            webhook_delivery_send_again(delivery=delivery, actor=request.user)
            for delivery in self.permitted(request, queryset, WORKSPACE_MANAGE).select_related(
                "endpoint__workspace"
            )
        )
        self.message_user(request, f"{again} delivery(ies) will be sent again now.")


class OwnRowsAdmin(admin.ModelAdmin):
    """A member's own rows (notifications, preferences), whatever their workspace."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{self.owner_field: request.user})

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            obj is None or getattr(obj, f"{self.owner_field}_id") == request.user.pk
        )


class NotificationReadFilter(admin.SimpleListFilter):
    title = "read or not"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("no", "Unread"), ("yes", "Read")]

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin, OwnRowsAdmin):
    owner_field = "recipient"
    list_display = ["title_link", "count", "workspace", "updated_at", "read"]
    list_filter = [NotificationReadFilter, "kind"]
    actions = ["mark_read"]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Notifications", **(extra_context or {})})

    def get_queryset(self, request):
        return notifications_for(user=request.user).select_related("workspace")

    def get_urls(self):
        return [
            path(
                "<int:notification_id>/open/",
                self.admin_site.admin_view(self.open_view),
                name="accounts_notification_open",
            ),
            path(
                "read-all/",
                self.admin_site.admin_view(self.read_all_view),
                name="accounts_notification_read_all",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Notification")
    def title_link(self, notification: Notification):
        url = reverse("admin:accounts_notification_open", args=[notification.pk])
        times = f" (×{notification.count})" if notification.count > 1 else ""
        return format_html('<a href="{}">{}{}</a>', url, notification.title, times)

    @admin.display(description="Read", boolean=True)
    def read(self, notification: Notification) -> bool:
        return notification.read_at is not None

    def open_view(self, request, notification_id: int):
        """Follow a notification to its object, marking it read."""
        notification = get_object_or_404(self.get_queryset(request), pk=notification_id)
        notifications_mark_read(
            user=request.user, notification_ids=[notification.pk], now=timezone.now()
        )
        return redirect(notification.link)

    def read_all_view(self, request):
        if request.method != "POST":
            raise PermissionDenied("Mark notifications read with the button.")
        marked = notifications_mark_read(
            user=request.user, notification_ids=None, now=timezone.now()
        )
        self.message_user(request, f"Marked {marked} notification(s) read.")
        return redirect("admin:accounts_notification_changelist")

    @admin.action(description="Mark read", permissions=["view"])
    def mark_read(self, request, queryset):
        marked = notifications_mark_read(
            user=request.user,
            notification_ids=queryset.values_list("pk", flat=True),
            now=timezone.now(),
        )
        self.message_user(request, f"Marked {marked} notification(s) read.")


class NotificationPreferenceForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=[(kind, f"{kind}: {text}") for kind, text in KINDS.items()])

    class Meta:
        model = NotificationPreference
        fields = ["kind", "in_admin", "by_email"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(OwnRowsAdmin):
    """Which notifications a member gets: a kind without a row comes both ways."""

    owner_field = "user"
    form = NotificationPreferenceForm
    list_display = ["kind", "in_admin", "by_email"]

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = notification_preferences_set(
            user=request.user,
            kind=form.cleaned_data["kind"],
            in_admin=form.cleaned_data["in_admin"],
            by_email=form.cleaned_data["by_email"],
        )
        # The admin logs and links the object it holds: make it the saved row.
        obj.pk, obj.user = saved.pk, request.user
