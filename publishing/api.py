"""The publishing API: what staff can do to a job, and webhooks, for integrations."""

import django_filters
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.exceptions import ValidationError as BadRequest
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.events import EVENT_TYPES
from accounts.models import WebhookDelivery, WebhookEndpoint, Workspace
from accounts.permissions import (
    POST_PUBLISH,
    WORKSPACE_MANAGE,
    WORKSPACE_VIEW,
    member_may,
    workspaces_where,
)
from config.api_auth import KeyOrStaff
from config.api_common import Conflict, ManagersOnly, NewestFirst, OldestFirst, caller_may
from config.api_filters import FilterSet
from config.api_idempotency import IDEMPOTENCY_PARAMETER, IDEMPOTENCY_REFUSED, idempotent
from posts.api import JobSerializer
from publishing.models import JobStatus, PublishAttempt, PublishJob
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
)


class NetworkRefused(APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "network_refused"


class JobPostView(APIView):
    """The post a job published, on its network."""

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="The post (every part of a thread) is deleted."),
            403: OpenApiResponse(description="The caller's role does not allow it."),
            404: OpenApiResponse(description="No such job in the caller's workspaces."),
            409: OpenApiResponse(description="The job has not published a post."),
            502: OpenApiResponse(description="The network did not delete it; try again."),
        },
    )
    def delete(self, request, job_id: int) -> Response:
        job = get_object_or_404(
            PublishJob.objects.filter(
                post__workspace__in=workspaces_where(user=request.user, action=WORKSPACE_VIEW)
            ).select_related("account", "post__workspace"),
            pk=job_id,
        )
        if not member_may(user=request.user, workspace=job.post.workspace_id, action=POST_PUBLISH):
            raise PermissionDenied(
                "Your role in this workspace does not allow deleting posts from networks; an "
                "editor or owner can."
            )
        try:
            job_delete_published(job=job, actor=request.user)
        except ValidationError as error:
            raise Conflict(error.messages[0]) from error
        except PostNotDeleted as error:
            raise NetworkRefused(error.message) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceManaged:
    """Scoping for rows only a workspace's owners see (webhooks hold where events go)."""

    permission_classes = [KeyOrStaff, ManagersOnly]

    def managed_workspaces(self):
        return workspaces_where(user=self.request.user, action=WORKSPACE_MANAGE)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    workspace = serializers.PrimaryKeyRelatedField(queryset=Workspace.objects.none())
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)),
        required=False,
        help_text="Event types wanted; empty or absent means every event.",
    )
    secret = serializers.SerializerMethodField(
        help_text="The signing secret (whsec_…): in the answer to the creation only."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "workspace",
            "url",
            "description",
            "events",
            "active",
            "failure_count",
            "disabled_at",
            "created_at",
            "secret",
        ]
        read_only_fields = ["active", "failure_count", "disabled_at", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["workspace"].queryset = workspaces_where(
                user=self.context["request"].user, action=WORKSPACE_VIEW
            )

    def get_secret(self, endpoint) -> str | None:
        return self.context.get("new_secret")


class WebhookEndpointViewSet(
    WorkspaceManaged,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Webhook endpoints of the workspaces the caller owns. The secret is in the answer
    to the creation only; verify each request with it (README "Webhooks")."""

    serializer_class = WebhookEndpointSerializer
    pagination_class = OldestFirst

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(workspace__in=self.managed_workspaces()).order_by(
            "id"
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: WebhookEndpointSerializer, **IDEMPOTENCY_REFUSED},
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        caller_may(request, workspace_id=data["workspace"].pk, action=WORKSPACE_MANAGE)
        try:
            new = webhook_endpoint_create(
                workspace=data["workspace"],
                url=data["url"],
                description=data.get("description", ""),
                events=data.get("events", []),
                actor=request.user,
            )
        except WebhookError as error:
            raise BadRequest({"events": [str(error)]}) from error
        answer = WebhookEndpointSerializer(
            new.endpoint, context={**self.get_serializer_context(), "new_secret": new.secret}
        )
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        webhook_endpoint_delete(endpoint=instance, actor=self.request.user)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.SerializerMethodField(help_text="The webhook-id header sent.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "status",
            "attempt_count",
            "response_code",
            "last_error",
            "next_try_at",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields

    def get_event_id(self, delivery) -> str:
        return event_id_of(delivery.event)


class WebhookDeliveryViewSet(WorkspaceManaged, viewsets.ReadOnlyModelViewSet):
    """The delivery log of the caller's webhook endpoints (`?endpoint=<id>` narrows it)."""

    serializer_class = WebhookDeliverySerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        deliveries = WebhookDelivery.objects.filter(
            endpoint__workspace__in=self.managed_workspaces()
        ).select_related("event", "endpoint__workspace")
        endpoint = self.request.query_params.get("endpoint")
        if endpoint is not None:
            if not endpoint.isdigit():
                raise BadRequest({"endpoint": ["Give an endpoint's id (a number)."]})
            deliveries = deliveries.filter(endpoint_id=int(endpoint))
        return deliveries.order_by("-created_at", "-id")

    @extend_schema(
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            404: OpenApiResponse(description="No such delivery in the caller's workspaces."),
            409: OpenApiResponse(description="It is being sent right now."),
        },
    )
    @action(detail=True, methods=["post"], url_path="send-again")
    def send_again(self, request, pk=None):
        """Send the event to the endpoint again now (after the receiver was fixed)."""
        delivery = self.get_object()
        if not webhook_delivery_send_again(delivery=delivery, actor=request.user):
            raise Conflict("This delivery is being sent right now; look again in a minute.")
        delivery.refresh_from_db()
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class JobFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    occurrence_after = django_filters.IsoDateTimeFilter(
        field_name="occurrence_at", lookup_expr="gte"
    )
    occurrence_before = django_filters.IsoDateTimeFilter(
        field_name="occurrence_at", lookup_expr="lt"
    )

    class Meta:
        model = PublishJob
        fields = ["status", "post", "account"]


class MarkPublishedSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The post's full link on its network.")


JOB_REFUSED = {
    403: OpenApiResponse(description="The caller's role or key scopes do not allow it."),
    404: OpenApiResponse(description="No such job in the caller's workspaces."),
    409: OpenApiResponse(
        description="The job has moved on (read it again), or a request with this "
        "Idempotency-Key is still being done."
    ),
    422: OpenApiResponse(description="This Idempotency-Key was used for another request."),
}
JOB_ACTION = extend_schema(
    parameters=[IDEMPOTENCY_PARAMETER],
    request=None,
    responses={200: JobSerializer, **JOB_REFUSED},
)


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Publish jobs: one per account and occurrence, with their outcome and link."""

    serializer_class = JobSerializer
    pagination_class = NewestFirst
    filterset_class = JobFilter
    ordering_fields = ["created_at", "occurrence_at", "updated_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PublishJob.objects.none()
        return PublishJob.objects.filter(
            post__workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        ).select_related("account", "post__workspace")

    def _moved(self, job: PublishJob, moved: bool, refusal: str) -> Response:
        if not moved:
            raise Conflict(refusal)
        job.refresh_from_db()
        return Response(self.get_serializer(job).data)

    @JOB_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request, pk=None):
        """Send a failed, missed or doubtful job again."""
        job = self.get_object()
        caller_may(request, workspace_id=job.post.workspace_id, action=POST_PUBLISH)
        moved = job_retry(job=job, actor=request.user)
        return self._moved(job, moved, "Only a failed, missed or needs-review job is retried.")

    @JOB_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        """Stop a job that has not started, or one staff reviewed."""
        job = self.get_object()
        caller_may(request, workspace_id=job.post.workspace_id, action=POST_PUBLISH)
        moved = job_cancel(job=job, actor=request.user)
        return self._moved(job, moved, "The job has started or finished; it cannot be stopped.")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=MarkPublishedSerializer,
        responses={
            200: JobSerializer,
            400: OpenApiResponse(description="Bad link."),
            **JOB_REFUSED,
        },
    )
    @action(detail=True, methods=["post"], url_path="mark-published")
    @idempotent
    def mark_published(self, request, pk=None):
        """Record a job that needs review as published, with the post's link."""
        job = self.get_object()
        caller_may(request, workspace_id=job.post.workspace_id, action=POST_PUBLISH)
        given = MarkPublishedSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        moved = job_mark_published(job=job, url=given.validated_data["url"], actor=request.user)
        return self._moved(job, moved, "Only a job that needs review is marked published.")


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = PublishAttempt
        fields = [
            "id",
            "job",
            "number",
            "started_at",
            "finished_at",
            "outcome",
            "error_kind",
            "error_message",
            "http_status",
            "request_id",
            "duration_ms",
        ]
        read_only_fields = fields


class AttemptPages(NewestFirst):
    ordering = "-started_at"


class AttemptViewSet(viewsets.ReadOnlyModelViewSet):
    """Each call Kairos made to a network for a job, written before the call."""

    serializer_class = AttemptSerializer
    pagination_class = AttemptPages
    filterset_fields = ["job", "outcome"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PublishAttempt.objects.none()
        return PublishAttempt.objects.filter(
            job__post__workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        )
