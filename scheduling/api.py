"""The schedules API: what a schedule means, in words, local time and UTC."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import SocialAccount
from accounts.permissions import POST_SCHEDULE, WORKSPACE_VIEW, workspaces_where
from config.api_common import Conflict, caller_may
from config.api_idempotency import IDEMPOTENCY_PARAMETER, idempotent
from publishing.slots import slots_for_account
from scheduling.models import Schedule
from scheduling.selectors import schedule_summary
from scheduling.services import (
    schedule_end,
    schedule_occurrence_move,
    schedule_occurrence_skip,
    schedule_pause,
    schedule_resume,
)


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
        # One serializer for every schedule of a list (a post list's page has 50), not
        # one built, with its fields, per schedule.
        if not hasattr(self, "_occurrences"):
            self._occurrences = OccurrenceSerializer(many=True)
        return self._occurrences.to_representation(self._summary(schedule)["next"])


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
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the shape
            return SocialAccount.objects.none()
        account = get_object_or_404(
            SocialAccount.objects.filter(
                workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
            ).select_related("workspace"),
            pk=self.kwargs["account_id"],
        )
        return slots_for_account(account=account)


class OccurrenceSkipSerializer(serializers.Serializer):
    occurrence_at = serializers.DateTimeField(help_text="The upcoming occurrence, as listed.")


class OccurrenceMoveSerializer(OccurrenceSkipSerializer):
    local_date = serializers.DateField(help_text="The new day, in the schedule's zone.")
    local_time = serializers.TimeField(help_text="The new wall time, in the schedule's zone.")


SCHEDULE_REFUSED = {
    400: OpenApiResponse(description="Refused: the body names each field and what to change."),
    403: OpenApiResponse(description="The caller's role or key scopes do not allow it."),
    404: OpenApiResponse(description="No such schedule in the caller's workspaces."),
    409: OpenApiResponse(description="The schedule is not in a state that allows it."),
    422: OpenApiResponse(description="This Idempotency-Key was used for another request."),
}

SCHEDULE_ACTION = extend_schema(
    parameters=[IDEMPOTENCY_PARAMETER],
    request=None,
    responses={200: ScheduleSerializer, **SCHEDULE_REFUSED},
)


class ScheduleActionsViewSet(ScheduleViewSet):
    """Schedules of the caller's workspaces, with their next five occurrences, and what
    staff can do to one: pause, resume, end the series, skip or move an occurrence."""

    def _schedule_for(self, request) -> Schedule:
        schedule = self.get_object()
        caller_may(request, workspace_id=schedule.post.workspace_id, action=POST_SCHEDULE)
        return schedule

    def _answer(self, schedule: Schedule) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=schedule.pk)).data)

    @SCHEDULE_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def pause(self, request, pk=None):
        """Hold the series: nothing goes out until it is resumed."""
        schedule = self._schedule_for(request)
        if not schedule_pause(schedule=schedule, actor=request.user):
            raise Conflict("Only an active schedule is paused.")
        return self._answer(schedule)

    @SCHEDULE_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def resume(self, request, pk=None):
        """Go on from the next occurrence after now."""
        schedule = self._schedule_for(request)
        if not schedule_resume(schedule=schedule, actor=request.user):
            raise Conflict("Only a paused schedule is resumed.")
        return self._answer(schedule)

    @SCHEDULE_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def end(self, request, pk=None):
        """End the series: no occurrence after now; what went out stays."""
        schedule = self._schedule_for(request)
        schedule_end(schedule=schedule, actor=request.user)
        return self._answer(schedule)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=OccurrenceSkipSerializer,
        responses={200: ScheduleSerializer, **SCHEDULE_REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="skip-occurrence")
    @idempotent
    def skip_occurrence(self, request, pk=None):
        """Leave out one upcoming occurrence of a recurring schedule."""
        schedule = self._schedule_for(request)
        given = OccurrenceSkipSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        schedule_occurrence_skip(schedule=schedule, actor=request.user, **given.validated_data)
        return self._answer(schedule)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=OccurrenceMoveSerializer,
        responses={200: ScheduleSerializer, **SCHEDULE_REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="move-occurrence")
    @idempotent
    def move_occurrence(self, request, pk=None):
        """Move one upcoming occurrence to another wall time in the schedule's zone."""
        schedule = self._schedule_for(request)
        given = OccurrenceMoveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        schedule_occurrence_move(schedule=schedule, actor=request.user, **given.validated_data)
        return self._answer(schedule)
