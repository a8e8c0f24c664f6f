"""The schedules API: what a schedule means, in words, local time and UTC."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics, serializers, viewsets

from accounts.models import SocialAccount
from accounts.permissions import WORKSPACE_VIEW, workspaces_where
from publishing.slots import slots_for_account
from scheduling.models import Schedule
from scheduling.selectors import schedule_summary


class OccurrenceSerializer(serializers.Serializer):
    local = serializers.SerializerMethodField(help_text="In the schedule's zone, with its offset.")
    utc = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_local(self, occurrence: dict) -> str:
        # DRF would convert to the server's zone; the offset is the point here.
        return occurrence["local"].isoformat()


class ScheduleSerializer(serializers.ModelSerializer):
    description = serializers.SerializerMethodField()
    start_utc = serializers.DateTimeField(read_only=True)
    next_occurrences = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = [
            "id",
            "post",
            "kind",
            "description",
            "timezone",
            "local_date",
            "local_time",
            "start_utc",
            "every",
            "unit",
            "cron",
            "rrule",
            "exdates",
            "status",
            "next_occurrence_at",
            "next_occurrences",
            "occurrence_count",
        ]
        read_only_fields = fields

    def _summary(self, schedule: Schedule) -> dict:
        # One computation serves both fields of the same schedule.
        cache = self.context.setdefault("summaries", {})
        if schedule.pk not in cache:
            cache[schedule.pk] = schedule_summary(schedule=schedule, now=timezone.now())
        return cache[schedule.pk]

    def get_description(self, schedule: Schedule) -> str:
        return self._summary(schedule)["description"]

    @extend_schema_field(OccurrenceSerializer(many=True))
    def get_next_occurrences(self, schedule: Schedule) -> list[dict]:
        return OccurrenceSerializer(self._summary(schedule)["next"], many=True).data


class ScheduleViewSet(viewsets.ReadOnlyModelViewSet):
    """Schedules of the caller's workspaces, with their next five occurrences."""

    serializer_class = ScheduleSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the shape
            return Schedule.objects.none()
        return (
            Schedule.objects.filter(
                post__workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
            )
            .select_related("post")
            .prefetch_related("changes")
            .order_by("id")
        )


class SlotSerializer(serializers.Serializer):
    weekday = serializers.CharField()
    local_time = serializers.TimeField()
    next_at = serializers.DateTimeField(help_text="The slot's next instant, UTC.")


class AccountSlotsView(generics.ListAPIView):
    """An account's weekly queue slots, in its workspace's zone, with their next instant."""

    serializer_class = SlotSerializer
    pagination_class = None

    def get_queryset(self):
        account = get_object_or_404(
            SocialAccount.objects.filter(
                workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
            ).select_related("workspace"),
            pk=self.kwargs["account_id"],
        )
        return slots_for_account(account=account)
