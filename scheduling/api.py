"""The schedules API: what a schedule means, in words, local time and UTC; setting,
changing and cancelling one; and an account's plans for posting (queue slots, posting
limits).

Every write goes through the services the admin uses: `schedule_set` (through
publishing/compose.py) for a schedule, publishing/slots.py for slots and
scheduling/limits.py for limits, whose refusals name the field to change.
"""

from datetime import datetime

import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import SocialAccount
from accounts.permissions import POST_PUBLISH, POST_SCHEDULE, WORKSPACE_VIEW, workspaces_where
from config.api_common import (
    Conflict,
    OldestFirst,
    WallTimeField,
    WorkspaceRowField,
    caller_may,
    unchanged_refuse,
)
from config.api_filters import FilterSet
from config.api_idempotency import IDEMPOTENCY_PARAMETER, IDEMPOTENCY_REFUSED, idempotent
from posts.models import Post
from publishing.compose import ScheduleDraft, schedule_from_draft
from publishing.services import post_cancel
from publishing.slots import slot_change, slot_create, slot_delete, slots_for_account
from scheduling.limits import (
    LIMIT_FIELDS,
    posting_limit_create,
    posting_limit_delete,
    posting_limit_update,
)
from scheduling.models import PostingLimit, QueueSlot, Schedule
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
    local_time = WallTimeField(read_only=True, help_text="Time on the wall clock of the zone.")
    unit = serializers.ChoiceField(
        choices=Schedule.Unit.choices,
        allow_blank=True,
        read_only=True,
        help_text="Interval schedules only; empty for the others.",
    )
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


class ScheduleFilter(FilterSet):
    next_after = django_filters.IsoDateTimeFilter(
        field_name="next_occurrence_at", lookup_expr="gte", help_text="Next occurrence from."
    )
    next_before = django_filters.IsoDateTimeFilter(
        field_name="next_occurrence_at", lookup_expr="lt", help_text="Next occurrence before."
    )

    class Meta:
        model = Schedule
        fields = ["post", "kind", "status", "timezone"]


class ScheduleViewSet(viewsets.ReadOnlyModelViewSet):
    """Schedules of the caller's workspaces, with their next five occurrences."""

    serializer_class = ScheduleSerializer
    pagination_class = OldestFirst
    filterset_class = ScheduleFilter
    # Cursor pages need a field with a value on every row: next_occurrence_at is empty
    # on finished schedules (filter by it instead).
    ordering_fields = ["created_at", "updated_at"]

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
    local_time = WallTimeField()
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
    local_time = WallTimeField(help_text="The new wall time, in the schedule's zone.")


class ScheduleInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Schedule.Kind.choices)
    local_date = serializers.DateField(help_text="The first (or only) day, in `timezone`.")
    local_time = WallTimeField(help_text="The wall time, in `timezone`.")
    timezone = serializers.CharField(
        required=False, help_text="IANA zone, e.g. Europe/Paris; by default the workspace's."
    )
    every = serializers.IntegerField(required=False, min_value=1, help_text="Interval only.")
    unit = serializers.ChoiceField(
        choices=Schedule.Unit.choices, required=False, help_text="Interval only."
    )
    cron = serializers.CharField(required=False, help_text="Cron only: five fields.")
    rrule = serializers.CharField(required=False, help_text="RRULE only (RFC 5545).")
    exdates = serializers.ListField(
        child=serializers.DateTimeField(), required=False, help_text="RRULE only."
    )


def schedule_draft(values: dict, *, default_zone: str) -> ScheduleDraft:
    """A validated `ScheduleInputSerializer`'s values, for publishing/compose.py."""
    return ScheduleDraft(
        kind=values["kind"],
        local_date=values["local_date"],
        local_time=values["local_time"],
        timezone=values.get("timezone") or default_zone,
        every=values.get("every"),
        unit=values.get("unit", ""),
        cron=values.get("cron", ""),
        rrule=values.get("rrule", ""),
        exdates=values.get("exdates", ()),
    )


def schedule_values(schedule: Schedule) -> dict:
    """A stored schedule as `ScheduleInputSerializer`'s values: what a PATCH starts from."""
    return {
        "kind": schedule.kind,
        "local_date": schedule.local_date,
        "local_time": schedule.local_time,
        "timezone": schedule.timezone,
        "every": schedule.every,
        "unit": schedule.unit,
        "cron": schedule.cron,
        "rrule": schedule.rrule,
        "exdates": [datetime.fromisoformat(value) for value in schedule.exdates],
    }


class ScheduleChangeSerializer(ScheduleInputSerializer):
    republish = serializers.BooleanField(
        default=False, help_text="Needed to schedule again a published or cancelled post."
    )


class LivePostField(WorkspaceRowField):
    """A post of a workspace the caller sees, not deleted."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class ScheduleCreateSerializer(ScheduleChangeSerializer):
    post = LivePostField(model=Post, help_text="The post it schedules (one schedule each).")


SCHEDULE_EXAMPLES = [
    OpenApiExample(
        "Weekdays at 09:00 in Paris",
        value={
            "post": 42,
            "kind": "cron",
            "cron": "0 9 * * MON-FRI",
            "local_date": "2026-11-02",
            "local_time": "09:00:00",
            "timezone": "Europe/Paris",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Once, in New York",
        value={
            "post": 42,
            "kind": "once",
            "local_date": "2026-11-02",
            "local_time": "17:30:00",
            "timezone": "America/New_York",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Every other Tuesday, ten times",
        value={
            "post": 42,
            "kind": "rrule",
            "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=10",
            "local_date": "2026-11-03",
            "local_time": "12:00:00",
            "timezone": "Asia/Tokyo",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Every 6 hours",
        value={
            "post": 42,
            "kind": "interval",
            "every": 6,
            "unit": "hours",
            "local_date": "2026-11-02",
            "local_time": "08:00:00",
        },
        request_only=True,
    ),
    OpenApiExample(
        "A refused rule",
        value={"cron": ["minute field: 61 is out of range 0–59."]},
        response_only=True,
        status_codes=["400"],
    ),
]

SCHEDULE_REFUSED = {
    400: OpenApiResponse(description="Refused: the body names each field and what to change."),
    403: OpenApiResponse(description="The caller's role or key scopes do not allow it."),
    404: OpenApiResponse(description="No such schedule in the caller's workspaces."),
    409: OpenApiResponse(description="The schedule is not in a state that allows it."),
    422: OpenApiResponse(description="This Idempotency-Key was used for another request."),
}

SCHEDULE_CHANGE_REFUSED = {code: SCHEDULE_REFUSED[code] for code in (400, 403, 404)}

SCHEDULE_ACTION = extend_schema(
    parameters=[IDEMPOTENCY_PARAMETER],
    request=None,
    responses={200: ScheduleSerializer, **SCHEDULE_REFUSED},
)


@extend_schema_view(
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ScheduleCreateSerializer,
        responses={201: ScheduleSerializer, **SCHEDULE_CHANGE_REFUSED, **IDEMPOTENCY_REFUSED},
        examples=SCHEDULE_EXAMPLES,
    ),
    update=extend_schema(
        request=ScheduleChangeSerializer,
        responses={200: ScheduleSerializer, **SCHEDULE_CHANGE_REFUSED},
    ),
    partial_update=extend_schema(
        request=ScheduleChangeSerializer,
        responses={200: ScheduleSerializer, **SCHEDULE_CHANGE_REFUSED},
    ),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(
                description="The post is cancelled: its schedule and every job not started."
            ),
            403: SCHEDULE_REFUSED[403],
            404: SCHEDULE_REFUSED[404],
        },
    ),
)
class ScheduleActionsViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScheduleViewSet,
):
    """Schedules of the caller's workspaces, with their next five occurrences, and what
    staff can do to one: set one for a post (once, interval, cron or RRULE, each in its
    zone), change it, cancel it, pause, resume, end the series, skip or move an
    occurrence.

    A schedule is set by `schedule_set`, the composer's: the rule, its zone, the post's
    problems, posting limits and repeated texts are checked in one transaction, so a
    refused schedule leaves nothing behind. DELETE cancels the post (`post_cancel`, the
    admin's "Cancel"): the schedule stays, cancelled, for the record; it takes the
    `publish` scope, as cancelling does everywhere.
    """

    def _schedule_for(self, request, action: str = POST_SCHEDULE) -> Schedule:
        schedule = self.get_object()
        caller_may(request, workspace_id=schedule.post.workspace_id, action=action)
        return schedule

    def _answer(self, schedule: Schedule, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=schedule.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @idempotent
    def create(self, request):
        given = ScheduleCreateSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        values = given.validated_data
        post = values["post"]
        caller_may(request, workspace_id=post.workspace_id, action=POST_SCHEDULE)
        current = getattr(post, "schedule", None)
        if current is not None and current.status in (
            Schedule.Status.ACTIVE,
            Schedule.Status.PAUSED,
        ):
            raise serializers.ValidationError(
                {
                    "post": [
                        f"The post has schedule {current.pk} already; change it with PUT "
                        f"or PATCH /api/v1/schedules/{current.pk}/."
                    ]
                }
            )
        schedule = self._set(post=post, values=values)
        return self._answer(schedule, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        schedule = self._schedule_for(request)
        given = ScheduleChangeSerializer(data=request.data, partial=partial)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        if partial:
            values = {**schedule_values(schedule), **values}
        self._set(post=schedule.post, values=values)
        return self._answer(schedule)

    def destroy(self, request, pk=None):
        schedule = self._schedule_for(request, action=POST_PUBLISH)
        post_cancel(post=schedule.post, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _set(self, *, post: Post, values: dict) -> Schedule:
        return schedule_from_draft(
            post=post,
            schedule=schedule_draft(values, default_zone=post.workspace.default_timezone),
            actor=self.request.user,
            republish=values.get("republish", False),
        )

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


PLAN_REFUSED = {
    400: OpenApiResponse(description="Refused: the body names each field and what to change."),
    403: OpenApiResponse(description="The caller's role or key scopes do not allow it."),
    404: OpenApiResponse(description="None such in the caller's workspaces."),
}


class AccountPlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Rows of an account's plans for posting: seen by the workspace, changed by those who
    schedule (the `write` scope); the account named in a body must be one the caller
    sees."""

    pagination_class = OldestFirst
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.model.objects.filter(
            account__workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        ).select_related("account__workspace")

    def _given(self, request, *, partial: bool = False) -> dict:
        given = self.get_serializer(data=request.data, partial=partial)
        given.is_valid(raise_exception=True)
        if "account" in given.validated_data:
            caller_may(
                request,
                workspace_id=given.validated_data["account"].workspace_id,
                action=POST_SCHEDULE,
            )
        return given.validated_data

    def _row_for(self, request):
        row = self.get_object()
        caller_may(request, workspace_id=row.account.workspace_id, action=POST_SCHEDULE)
        return row

    def _answer(self, row, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(row).data, status=code)


class QueueSlotSerializer(serializers.ModelSerializer):
    account = WorkspaceRowField(model=SocialAccount, help_text="Id of one of the accounts.")
    weekday = serializers.ChoiceField(
        choices=QueueSlot.Weekday.choices, help_text="0 Monday … 6 Sunday."
    )
    weekday_name = serializers.CharField(source="get_weekday_display", read_only=True)
    local_time = WallTimeField(help_text="The wall time, in the workspace's zone.")
    timezone = serializers.CharField(
        source="account.workspace.default_timezone",
        read_only=True,
        help_text="The workspace's zone, which the slot's wall time is on.",
    )

    class Meta:
        model = QueueSlot
        fields = ["id", "account", "weekday", "weekday_name", "local_time", "timezone"]
        # The model's own rules (one slot per account, weekday and time) are checked by
        # the service, naming the field; DRF's copy of the constraint would name none.
        validators = []


SLOT_EXAMPLES = [
    OpenApiExample(
        "Tuesdays at 09:30", value={"account": 7, "weekday": 1, "local_time": "09:30:00"}
    ),
    OpenApiExample(
        "A slot the account has",
        value={
            "local_time": [
                "The account has a slot on Tuesday at 09:30 already; choose another time or day."
            ]
        },
        response_only=True,
        status_codes=["400"],
    ),
]


@extend_schema_view(
    list=extend_schema(responses={200: QueueSlotSerializer(many=True)}),
    retrieve=extend_schema(responses={200: QueueSlotSerializer, 404: PLAN_REFUSED[404]}),
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: QueueSlotSerializer, **PLAN_REFUSED, **IDEMPOTENCY_REFUSED},
        examples=SLOT_EXAMPLES,
    ),
    update=extend_schema(responses={200: QueueSlotSerializer, **PLAN_REFUSED}),
    partial_update=extend_schema(responses={200: QueueSlotSerializer, **PLAN_REFUSED}),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Removed; posts scheduled in it keep their time."),
            **PLAN_REFUSED,
        }
    ),
)
class QueueSlotViewSet(mixins.UpdateModelMixin, AccountPlanViewSet):
    """The accounts' weekly queue slots (`?account=<id>` for one account's), which
    "add to queue" fills. A slot is a weekday and a wall time in the workspace's zone."""

    model = QueueSlot
    serializer_class = QueueSlotSerializer
    filterset_fields = ["account", "weekday"]
    ordering_fields = ["weekday", "local_time"]

    @idempotent
    def create(self, request):
        values = self._given(request)
        slot = slot_create(actor=request.user, **values)
        return self._answer(slot, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        slot = self._row_for(request)
        values = self._given(request, partial=partial)
        return self._answer(slot_change(slot=slot, actor=request.user, **values))

    def perform_destroy(self, slot: QueueSlot) -> None:
        caller_may(self.request, workspace_id=slot.account.workspace_id, action=POST_SCHEDULE)
        slot_delete(slot=slot, actor=self.request.user)


class PostingLimitSerializer(serializers.ModelSerializer):
    account = WorkspaceRowField(model=SocialAccount, help_text="Id of one of the accounts.")

    class Meta:
        model = PostingLimit
        fields = ["id", "account", *LIMIT_FIELDS]
        extra_kwargs = {
            "min_spacing": {"help_text": "At least this long between two posts ([DD ]HH:MM:SS)."},
            "max_per_hour": {"help_text": "At most this many posts in any 60 minutes."},
            "max_per_day": {"help_text": "At most this many posts in any 24 hours."},
        }


@extend_schema_view(
    list=extend_schema(responses={200: PostingLimitSerializer(many=True)}),
    retrieve=extend_schema(responses={200: PostingLimitSerializer, 404: PLAN_REFUSED[404]}),
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: PostingLimitSerializer, **PLAN_REFUSED, **IDEMPOTENCY_REFUSED},
        examples=[
            OpenApiExample(
                "15 minutes apart, 20 a day",
                value={"account": 7, "min_spacing": "00:15:00", "max_per_day": 20},
            ),
            OpenApiExample(
                "A cap of 0",
                value={"max_per_day": ["Give a cap of at least 1, or leave it empty for no cap."]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    ),
    update=extend_schema(responses={200: PostingLimitSerializer, **PLAN_REFUSED}),
    partial_update=extend_schema(responses={200: PostingLimitSerializer, **PLAN_REFUSED}),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="The account posts without limits."),
            **PLAN_REFUSED,
        }
    ),
)
class PostingLimitViewSet(mixins.UpdateModelMixin, AccountPlanViewSet):
    """How often each account may post: spacing and caps (one set per account), checked
    when a post is scheduled and again when it is sent (publishing/limits.py)."""

    model = PostingLimit
    serializer_class = PostingLimitSerializer
    filterset_fields = ["account"]
    ordering_fields = ["id"]

    @idempotent
    def create(self, request):
        values = self._given(request)
        limit = posting_limit_create(actor=request.user, **values)
        return self._answer(limit, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        limit = self._row_for(request)
        values = self._given(request, partial=partial)
        unchanged_refuse(
            values,
            name="account",
            current=limit.account,
            why="A limit stays with its account; make one for the other account instead.",
        )
        values.pop("account", None)
        return self._answer(posting_limit_update(limit=limit, actor=request.user, **values))

    def perform_destroy(self, limit: PostingLimit) -> None:
        caller_may(self.request, workspace_id=limit.account.workspace_id, action=POST_SCHEDULE)
        posting_limit_delete(limit=limit, actor=self.request.user)
