from datetime import time

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from accounts.admin import WorkspaceScopedAdmin
from accounts.models import SocialAccount
from accounts.permissions import POST_SCHEDULE, WORKSPACE_VIEW, member_may, workspaces_where
from analytics.best_times import WEEKDAYS
from analytics.models import MetricsSnapshot
from analytics.reports import (
    Report,
    account_report,
    campaign_report,
    period_from_query,
    post_report,
)
from posts.models import Campaign
from publishing.models import JobStatus, PublishJob
from publishing.slots import slot_add

RECENT_POSTS = 20


@admin.register(MetricsSnapshot)
class MetricsSnapshotAdmin(WorkspaceScopedAdmin):
    """Snapshots as rows, and the analytics pages: charts with their numbers in tables."""

    workspace_path = "job__post__workspace"
    list_display = ["job", "due_at", "collected_at", *MetricsSnapshot.NUMBERS]
    list_select_related = ["job__account", "job__post"]
    search_fields = ["job__external_id"]
    date_hierarchy = "due_at"
    readonly_fields = [*list_display, "raw"]
    fields = readonly_fields
    change_list_template = "admin/analytics/metricssnapshot/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("overview/", view(self.overview_view), name="analytics_overview"),
            path("account/<int:account_id>/", view(self.account_view), name="analytics_account"),
            path(
                "account/<int:account_id>/slot/",
                view(self.slot_add_view),
                name="analytics_account_slot",
            ),
            path("job/<int:job_id>/", view(self.post_view), name="analytics_post"),
            path(
                "campaign/<int:campaign_id>/", view(self.campaign_view), name="analytics_campaign"
            ),
            *super().get_urls(),
        ]

    def _visible(self, request):
        return workspaces_where(user=request.user, action=WORKSPACE_VIEW)

    def overview_view(self, request):
        visible = self._visible(request)
        context = {
            **self.admin_site.each_context(request),
            "title": "Analytics",
            "opts": self.model._meta,
            "accounts": SocialAccount.objects.filter(workspace__in=visible).select_related(
                "workspace"
            ),
            "campaigns": Campaign.objects.filter(workspace__in=visible).select_related("workspace"),
            "recent_jobs": PublishJob.objects.filter(
                post__workspace__in=visible, status=JobStatus.PUBLISHED
            )
            .select_related("account", "post")
            .prefetch_related("post__parts")
            .order_by("-published_at")[:RECENT_POSTS],
        }
        return TemplateResponse(request, "admin/analytics/overview.html", context)

    def account_view(self, request, account_id: int):
        account = get_object_or_404(
            SocialAccount.objects.filter(workspace__in=self._visible(request)).select_related(
                "workspace"
            ),
            pk=account_id,
        )
        return self._report_response(
            request,
            slug=f"account-{account.handle}",
            default_zone=account.workspace.default_timezone,
            make=lambda period: account_report(account=account, period=period, now=timezone.now()),
            extra={
                "account": account,
                "may_add_slot": member_may(
                    user=request.user, workspace=account.workspace_id, action=POST_SCHEDULE
                ),
            },
        )

    def slot_add_view(self, request, account_id: int):
        account = get_object_or_404(
            SocialAccount.objects.filter(workspace__in=self._visible(request)), pk=account_id
        )
        if request.method != "POST" or not member_may(
            user=request.user, workspace=account.workspace_id, action=POST_SCHEDULE
        ):
            raise PermissionDenied
        try:
            weekday = WEEKDAYS.index(request.POST["weekday"])
            local_time = time(int(request.POST["hour"]))
        except (KeyError, ValueError):
            self.message_user(request, "Choose a weekday and an hour.", messages.ERROR)
        else:
            slot = slot_add(
                account=account, weekday=weekday, local_time=local_time, actor=request.user
            )
            self.message_user(request, f"@{account.handle} has a queue slot on {slot}.")
        return redirect(reverse("admin:analytics_account", args=[account.pk]))

    def post_view(self, request, job_id: int):
        job = get_object_or_404(
            PublishJob.objects.filter(
                post__workspace__in=self._visible(request), status=JobStatus.PUBLISHED
            ).select_related("account__workspace"),
            pk=job_id,
        )
        return self._report_response(
            request,
            slug=f"post-{job.post_id}-{job.account.handle}",
            default_zone=job.account.workspace.default_timezone,
            make=lambda period: post_report(job=job, period=period),
        )

    def campaign_view(self, request, campaign_id: int):
        campaign = get_object_or_404(
            Campaign.objects.filter(workspace__in=self._visible(request)).select_related(
                "workspace"
            ),
            pk=campaign_id,
        )
        simulated = request.GET.get("simulated") == "1"
        return self._report_response(
            request,
            slug=f"campaign-{campaign.pk}",
            default_zone=campaign.timezone or campaign.workspace.default_timezone,
            make=lambda period: campaign_report(
                campaign=campaign, period=period, simulated=simulated
            ),
            extra={"simulated_switch": True, "simulated": simulated},
        )

    def _report_response(self, request, *, slug: str, default_zone: str, make, extra=None):
        try:
            period = period_from_query(request.GET, default_zone=default_zone, now=timezone.now())
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            period = period_from_query({}, default_zone=default_zone, now=timezone.now())
        report: Report = make(period)
        if request.GET.get("format") == "csv":
            response = HttpResponse(report.as_csv(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{report.filename(slug)}"'
            return response
        query = request.GET.copy()
        query["format"] = "csv"
        context = {
            **self.admin_site.each_context(request),
            "title": report.title,
            "opts": self.model._meta,
            "report": report,
            "tables": [(table, table.chart_data()) for table in report.tables],
            "csv_query": query.urlencode(),
            **(extra or {}),
        }
        return TemplateResponse(request, "admin/analytics/report.html", context)
