"""The analytics API: each stats view as JSON, the same tables the admin shows and
exports (analytics/reports.py), over the period and zone asked (`from`, `to`, `tz`);
and the metric snapshots themselves, per job."""

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError as RequestInvalid
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import SocialAccount
from accounts.permissions import WORKSPACE_VIEW, workspaces_where
from analytics.models import MetricsSnapshot
from analytics.reports import (
    Report,
    account_report,
    campaign_report,
    period_from_query,
    post_report,
    tag_report,
    workspace_report,
)
from config.api_common import NewestFirst
from config.api_filters import FilterSet
from posts.models import Campaign, Tag
from publishing.models import JobStatus, PublishJob


class PeriodSerializer(serializers.Serializer):
    first = serializers.DateField()
    last = serializers.DateField()


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    caption = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="One list per row, in the order of `columns`; null where there is no number.",
    )


class ReportSerializer(serializers.Serializer):
    title = serializers.CharField()
    timezone = serializers.CharField(help_text="The zone the period's days are in.")
    period = PeriodSerializer()
    simulated = serializers.BooleanField(
        help_text="True when the numbers are the sandbox's, made up for demos."
    )
    notes = serializers.ListField(child=serializers.CharField())
    tables = TableSerializer(many=True)


PERIOD_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 27 days ago)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
    OpenApiParameter("tz", OpenApiTypes.STR, description="IANA zone (default: the owner's)."),
]
SIMULATED_PARAMETER = OpenApiParameter(
    "simulated",
    OpenApiTypes.BOOL,
    description="true: the sandbox's simulated numbers instead of real networks'.",
)


class ReportView(APIView):
    """A stats view of one object of the caller's workspaces ("not found" otherwise)."""

    def visible(self):
        return workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)

    def simulated(self) -> bool:
        return self.request.query_params.get("simulated") in ("1", "true")

    def report(self, make, *, default_zone: str) -> Response:
        try:
            period = period_from_query(
                self.request.query_params, default_zone=default_zone, now=timezone.now()
            )
        except ValidationError as error:
            raise RequestInvalid({"period": error.messages}) from error
        report: Report = make(period)
        return Response(ReportSerializer(report.as_json()).data)


@extend_schema(parameters=PERIOD_PARAMETERS, responses=ReportSerializer)
class AccountReportView(ReportView):
    """An account's totals against the previous period, weekly totals, followers, and
    engagement by weekday × hour with suggested times."""

    def get(self, request, account_id: int):
        account = get_object_or_404(
            SocialAccount.objects.filter(workspace__in=self.visible()).select_related("workspace"),
            pk=account_id,
        )
        return self.report(
            lambda period: account_report(account=account, period=period, now=timezone.now()),
            default_zone=account.workspace.default_timezone,
        )


@extend_schema(parameters=PERIOD_PARAMETERS, responses=ReportSerializer)
class PostReportView(ReportView):
    """A published post on one account (a job): every snapshot, its numbers at 24 h and
    7 d, and against its account's median post of the period."""

    def get(self, request, job_id: int):
        job = get_object_or_404(
            PublishJob.objects.filter(
                post__workspace__in=self.visible(), status=JobStatus.PUBLISHED
            ).select_related("account__workspace"),
            pk=job_id,
        )
        return self.report(
            lambda period: post_report(job=job, period=period),
            default_zone=job.account.workspace.default_timezone,
        )


@extend_schema(parameters=[*PERIOD_PARAMETERS, SIMULATED_PARAMETER], responses=ReportSerializer)
class CampaignReportView(ReportView):
    """A campaign's totals against the previous period, and its posts side by side."""

    def get(self, request, campaign_id: int):
        campaign = get_object_or_404(
            Campaign.objects.filter(workspace__in=self.visible()).select_related("workspace"),
            pk=campaign_id,
        )
        return self.report(
            lambda period: campaign_report(
                campaign=campaign, period=period, simulated=self.simulated()
            ),
            default_zone=campaign.timezone or campaign.workspace.default_timezone,
        )


@extend_schema(parameters=[*PERIOD_PARAMETERS, SIMULATED_PARAMETER], responses=ReportSerializer)
class TagReportView(ReportView):
    """A tag's totals against the previous period."""

    def get(self, request, tag_id: int):
        tag = get_object_or_404(
            Tag.objects.filter(workspace__in=self.visible()).select_related("workspace"),
            pk=tag_id,
        )
        return self.report(
            lambda period: tag_report(tag=tag, period=period, simulated=self.simulated()),
            default_zone=tag.workspace.default_timezone,
        )


@extend_schema(
    parameters=[
        *PERIOD_PARAMETERS,
        SIMULATED_PARAMETER,
        OpenApiParameter(
            "author", OpenApiTypes.INT, description="Only the posts this staff member composed."
        ),
    ],
    responses=ReportSerializer,
)
class WorkspaceReportView(ReportView):
    """A workspace's totals (or one author's) against the previous period."""

    def get(self, request, workspace_id: int):
        workspace = get_object_or_404(self.visible(), pk=workspace_id)
        author = None
        if request.query_params.get("author"):
            author = get_object_or_404(
                get_user_model().objects.filter(memberships__workspace=workspace),
                pk=request.query_params["author"],
            )
        return self.report(
            lambda period: workspace_report(
                workspace=workspace, period=period, simulated=self.simulated(), author=author
            ),
            default_zone=workspace.default_timezone,
        )


class MetricsSnapshotSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="job.account_id", read_only=True)
    post = serializers.IntegerField(source="job.post_id", read_only=True)

    class Meta:
        model = MetricsSnapshot
        fields = [
            "id",
            "job",
            "post",
            "account",
            "due_at",
            "collected_at",
            *MetricsSnapshot.NUMBERS,
        ]
        read_only_fields = fields


class MetricsSnapshotFilter(FilterSet):
    account = django_filters.NumberFilter(field_name="job__account")
    post = django_filters.NumberFilter(field_name="job__post")
    collected_after = django_filters.IsoDateTimeFilter(
        field_name="collected_at", lookup_expr="gte", help_text="From this instant on."
    )
    collected_before = django_filters.IsoDateTimeFilter(
        field_name="collected_at", lookup_expr="lt", help_text="Before this instant."
    )

    class Meta:
        model = MetricsSnapshot
        fields = ["job", "post", "account"]


class SnapshotPages(NewestFirst):
    ordering = "-collected_at"


class MetricsSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    """Each published job's numbers as collected (1 h, 6 h, 24 h, … after publishing),
    newest first; `?job=`, `?account=`, `?post=` and a `collected_after`/`collected_before`
    range narrow them. A number the network did not give is null."""

    serializer_class = MetricsSnapshotSerializer
    pagination_class = SnapshotPages
    filterset_class = MetricsSnapshotFilter
    ordering_fields = ["collected_at", "due_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MetricsSnapshot.objects.none()
        return MetricsSnapshot.objects.filter(
            job__post__workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        ).select_related("job")
