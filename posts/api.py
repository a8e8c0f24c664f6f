"""The posts API: compose, change, schedule and act on posts, in one call each.

Every write goes through the services the admin uses (publishing/compose.py puts
posts', media's and plans' services in one transaction; publishing/services.py acts).
Rows are scoped by `workspaces_where`: a post, account, tag, campaign or file of a
workspace the caller may not see is "not found" (404, or 400 naming the field for an
id in a request body), never "forbidden".
"""

from __future__ import annotations

from datetime import time

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import SocialAccount
from accounts.permissions import (
    POST_APPROVE,
    POST_COMPOSE,
    POST_PUBLISH,
    POST_SCHEDULE,
    WORKSPACE_VIEW,
    workspace_ids_where,
    workspaces_where,
)
from config.api_common import (
    NewestFirst,
    WallTimeField,
    WorkspaceRowField,
    caller_may,
    rows_release,
    unchanged_refuse,
    workspace_of_caller,
)
from config.api_filters import FilterSet, WholeNumberFilter
from config.api_idempotency import IDEMPOTENCY_PARAMETER, idempotent
from posts.api_page import JOB_COLUMNS, posts_page_represent
from posts.approval import post_approve, post_changes_request, post_review_request
from posts.media import media_asset_create
from posts.models import Campaign, MediaAsset, PartMedia, Post, PostPart, Tag, Target
from posts.services import (
    campaign_create,
    campaign_delete,
    campaign_update,
    post_restore,
    tag_create,
    tag_delete,
    tag_rename,
)
from publishing.campaigns import campaign_distribute
from publishing.compose import (
    PartDraft,
    PostDraft,
    post_compose,
    post_revise,
    post_schedule_from_draft,
)
from publishing.models import PublishJob
from publishing.plans import post_soft_delete
from publishing.services import post_cancel, post_publish_now
from publishing.slots import post_add_to_queue
from scheduling.api import (
    ScheduleChangeSerializer,
    ScheduleInputSerializer,
    ScheduleSerializer,
    schedule_draft,
)


class PartSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, help_text="The part's text.")
    media = serializers.ListField(
        child=WorkspaceRowField(model=MediaAsset),
        required=False,
        default=list,
        help_text="Ids of files of the workspace's library, in order (upload: /api/v1/media/).",
    )


class TargetSerializer(serializers.Serializer):
    account = WorkspaceRowField(model=SocialAccount, help_text="Id of one of the accounts.")
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="This account's own text for part 1; empty: the post's.",
    )


class PostWriteSerializer(serializers.Serializer):
    """A post as the caller wants it. On PATCH, what is left out stays as it is."""

    workspace = serializers.IntegerField(
        required=False,
        help_text="The workspace; by default an API key's own (people in several name it).",
    )
    parts = PartSerializer(many=True, required=False, help_text="One: a post; several: a thread.")
    targets = TargetSerializer(many=True, required=False, help_text="The accounts it goes to.")
    tags = serializers.ListField(child=WorkspaceRowField(model=Tag), required=False)
    campaign = WorkspaceRowField(model=Campaign, required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=Post.Priority.choices, required=False)
    text_variants = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Recurring posts: texts in turn."
    )
    schedule = ScheduleInputSerializer(
        required=False, help_text="When it goes out; without it the post stays a draft."
    )
    republish = serializers.BooleanField(
        default=False, help_text="Schedule again a post that was published or cancelled."
    )

    def draft(self, *, default_zone: str) -> PostDraft:
        values = self.validated_data
        parts = values.get("parts")
        targets = values.get("targets")
        schedule = None
        if "schedule" in values:
            schedule = schedule_draft(values["schedule"], default_zone=default_zone)
        return PostDraft(
            parts=None
            if parts is None
            else [PartDraft(text=part["text"], media=part.get("media", [])) for part in parts],
            accounts=None if targets is None else [target["account"] for target in targets],
            own_texts={target["account"].pk: target.get("text", "") for target in targets or ()},
            tags=values.get("tags"),
            campaign=values.get("campaign"),
            campaign_given="campaign" in values,
            priority=values.get("priority"),
            text_variants=values.get("text_variants"),
            schedule=schedule,
        )


class PartReadSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    text = serializers.CharField()
    media = serializers.SerializerMethodField()

    def get_media(self, part) -> list[int]:
        return [attached.asset_id for attached in part.media_read]


class TargetReadSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    network = serializers.CharField(source="account.network")
    handle = serializers.CharField(source="account.handle")
    text = serializers.CharField(source="text_override")


class JobSerializer(serializers.ModelSerializer):
    # Empty until the job is published, so not typed as a URI.
    external_url = serializers.CharField(
        read_only=True, help_text="The post's link on its network; empty until published."
    )

    class Meta:
        model = PublishJob
        # One list for this serializer and the posts list's plain rows (api_page.py).
        fields = list(JOB_COLUMNS)
        read_only_fields = fields


class PostSerializer(serializers.ModelSerializer):
    # The lists POST_PREFETCH reads (posts read by the API come through it).
    parts = PartReadSerializer(many=True, read_only=True, source="parts_read")
    targets = TargetReadSerializer(many=True, read_only=True, source="targets_read")
    tags = serializers.SerializerMethodField()
    # A nested serializer, made once for the page: a SerializerMethodField building one
    # per post spent most of a page's time setting up its fields.
    schedule = ScheduleSerializer(read_only=True, allow_null=True)
    jobs = JobSerializer(many=True, read_only=True, source="jobs_read")

    class Meta:
        model = Post
        fields = [
            "id",
            "workspace",
            "status",
            "approval",
            "priority",
            "parts",
            "targets",
            "tags",
            "campaign",
            "text_variants",
            "schedule",
            "jobs",
            "created_at",
            "updated_at",
            "deleted_at",
        ]
        read_only_fields = fields

    def get_tags(self, post: Post) -> list[int]:
        return [tag.pk for tag in post.tags_read]


class PostFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Post.Status.choices, distinct=False)
    # Semi-joins (`id IN (…)`) rather than joins: no DISTINCT, so PostgreSQL reads the
    # page in the list's index order and stops at its LIMIT.
    account = WholeNumberFilter(method="account_filter")
    tag = WholeNumberFilter(method="tag_filter")
    priority = WholeNumberFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    deleted = django_filters.BooleanFilter(
        method="deleted_filter", help_text="true: deleted posts only; by default, the others."
    )

    class Meta:
        model = Post
        fields = ["status", "priority", "campaign", "account", "tag"]

    def deleted_filter(self, queryset, name, value):
        return queryset.filter(deleted_at__isnull=not value)

    def account_filter(self, queryset, name, value: int):
        return queryset.filter(pk__in=Target.objects.filter(account=value).values("post_id"))

    def tag_filter(self, queryset, name, value: int):
        return queryset.filter(pk__in=Post.tags.through.objects.filter(tag=value).values("post_id"))


class RepublishSerializer(serializers.Serializer):
    republish = serializers.BooleanField(
        default=False, help_text="Needed to send a published or cancelled post again."
    )


class ActionAnswerSerializer(serializers.Serializer):
    detail = serializers.CharField()
    post = PostSerializer()


# What PostSerializer reads, as plain lists (`to_attr`): Django then makes no queryset
# per post and relation to hold them, a third of a page's time. Parts in their post's
# order by ids: PostPart's own ordering ("post") would join every part to its post to
# sort by the post's creation.
POST_PREFETCH = (
    Prefetch(
        "parts",
        queryset=PostPart.objects.order_by("post_id", "position").prefetch_related(
            # In the part's order (PartMedia.position), as they are published.
            Prefetch(
                "partmedia_set",
                queryset=PartMedia.objects.order_by("position"),
                to_attr="media_read",
            )
        ),
        to_attr="parts_read",
    ),
    Prefetch(
        "targets",
        queryset=Target.objects.select_related("account").order_by("id"),
        to_attr="targets_read",
    ),
    Prefetch("tags", to_attr="tags_read"),
    Prefetch("jobs", to_attr="jobs_read"),
    "schedule__changes",
)
REFUSED = {
    400: OpenApiResponse(description="Refused: the body names each field and what to change."),
    403: OpenApiResponse(description="The caller's role or key scopes do not allow it."),
    404: OpenApiResponse(description="No such post in the caller's workspaces."),
    409: OpenApiResponse(description="A request with this Idempotency-Key is still being done."),
    422: OpenApiResponse(description="This Idempotency-Key was used for another request."),
}


# A PUT, PATCH or DELETE takes no Idempotency-Key: doing it twice is doing it once.
REFUSED_NOW = {code: answer for code, answer in REFUSED.items() if code not in (409, 422)}


class ChangesRequestSerializer(serializers.Serializer):
    comment = serializers.CharField(help_text="What should change: the author reads it.")


POST_ACTION = extend_schema(
    parameters=[IDEMPOTENCY_PARAMETER],
    request=None,
    responses={200: ActionAnswerSerializer, **REFUSED},
)


@extend_schema_view(
    list=extend_schema(responses={200: PostSerializer(many=True)}),
    retrieve=extend_schema(responses={200: PostSerializer, 404: REFUSED[404]}),
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=PostWriteSerializer,
        responses={201: PostSerializer, **REFUSED},
    ),
    update=extend_schema(request=PostWriteSerializer, responses={200: PostSerializer, **REFUSED}),
    partial_update=extend_schema(
        request=PostWriteSerializer, responses={200: PostSerializer, **REFUSED}
    ),
    destroy=extend_schema(
        responses={204: OpenApiResponse(description="Deleted; restore brings it back."), **REFUSED}
    ),
)
class PostViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Posts of the caller's workspaces: parts, accounts, schedule, jobs and links."""

    serializer_class = PostSerializer
    pagination_class = NewestFirst
    filterset_class = PostFilter
    ordering_fields = ["created_at", "updated_at", "priority"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Post.objects.none()
        queryset = Post.objects.filter(
            workspace__in=workspace_ids_where(user=self.request.user, action=WORKSPACE_VIEW)
        )
        # Deleted posts are seen by restore and by the list's `deleted=true` only.
        sees_deleted = self.action == "restore" or (
            self.action == "list" and "deleted" in self.request.query_params
        )
        if not sees_deleted:
            queryset = queryset.filter(deleted_at__isnull=True)
        queryset = queryset.select_related("schedule")
        if self.action == "list":
            # posts_page_represent reads the parts, targets, tags and jobs itself.
            return queryset.prefetch_related("schedule__changes")
        return queryset.prefetch_related(*POST_PREFETCH)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        schedules = ScheduleSerializer(context=self.get_serializer_context())
        response = self.get_paginated_response(
            posts_page_represent(page, schedule_serializer=schedules)
        )
        rows_release(page)
        return response

    def _answer(self, post: Post, code: int = status.HTTP_200_OK) -> Response:
        fresh = Post.objects.filter(pk=post.pk)
        fresh = fresh.select_related("schedule").prefetch_related(*POST_PREFETCH)
        return Response(self.get_serializer(fresh.get()).data, status=code)

    def _written(self, request, *, partial: bool) -> PostWriteSerializer:
        given = PostWriteSerializer(
            data=request.data, partial=partial, context={"request": request}
        )
        given.is_valid(raise_exception=True)
        return given

    @idempotent
    def create(self, request):
        given = self._written(request, partial=False)
        workspace = workspace_of_caller(request, given.validated_data.get("workspace"))
        caller_may(request, workspace_id=workspace.pk, action=POST_COMPOSE)
        if "schedule" in given.validated_data:
            caller_may(request, workspace_id=workspace.pk, action=POST_SCHEDULE)
        post = post_compose(
            workspace=workspace,
            draft=given.draft(default_zone=workspace.default_timezone),
            actor=request.user,
            republish=given.validated_data.get("republish", False),
        )
        return self._answer(post, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        post = self.get_object()
        given = self._written(request, partial=partial)
        caller_may(request, workspace_id=post.workspace_id, action=POST_COMPOSE)
        if "schedule" in given.validated_data:
            caller_may(request, workspace_id=post.workspace_id, action=POST_SCHEDULE)
        post_revise(
            post=post,
            draft=given.draft(default_zone=post.workspace.default_timezone),
            actor=request.user,
            republish=given.validated_data.get("republish", False),
        )
        return self._answer(post)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def perform_destroy(self, post: Post) -> None:
        caller_may(self.request, workspace_id=post.workspace_id, action=POST_COMPOSE)
        post_soft_delete(post=post, actor=self.request.user)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=RepublishSerializer,
        responses={200: ActionAnswerSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def publish(self, request, pk=None):
        """Publish to every account as soon as a worker is free."""
        post = self.get_object()
        caller_may(request, workspace_id=post.workspace_id, action=POST_PUBLISH)
        given = RepublishSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        created = post_publish_now(
            post=post,
            actor=request.user,
            now=timezone.now(),
            republish=given.validated_data["republish"],
        )
        return self._acted(post, f"Publishing to {created} account(s) now.")

    @POST_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        """Stop whatever of the post has not started."""
        post = self.get_object()
        caller_may(request, workspace_id=post.workspace_id, action=POST_PUBLISH)
        outcome = post_cancel(post=post, actor=request.user)
        return self._acted(post, outcome.message())

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ScheduleChangeSerializer,
        responses={200: ActionAnswerSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reschedule(self, request, pk=None):
        """Give the post a new schedule; jobs of earlier occurrences not started are cancelled."""
        post = self.get_object()
        caller_may(request, workspace_id=post.workspace_id, action=POST_SCHEDULE)
        given = ScheduleChangeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        schedule = post_schedule_from_draft(
            post=post,
            schedule=schedule_draft(
                given.validated_data, default_zone=post.workspace.default_timezone
            ),
            actor=request.user,
            republish=given.validated_data["republish"],
        )
        local = schedule.next_occurrence_at.astimezone(schedule.zone)
        return self._acted(post, f"Scheduled for {local.isoformat()} ({schedule.timezone}).")

    @POST_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def restore(self, request, pk=None):
        """Bring a deleted post back as a draft."""
        post = self.get_object()
        caller_may(request, workspace_id=post.workspace_id, action=POST_COMPOSE)
        if post.deleted_at is None:
            raise serializers.ValidationError({"detail": "The post is not deleted."})
        post_restore(post=post, actor=request.user)
        return self._acted(post, "Restored as a draft; schedule it to send it out.")

    @POST_ACTION
    @action(detail=True, methods=["post"], url_path="add-to-queue")
    @idempotent
    def add_to_queue(self, request, pk=None):
        """Schedule the post for the next slot free on all its accounts."""
        post = self.get_object()
        caller_may(request, workspace_id=post.workspace_id, action=POST_SCHEDULE)
        schedule = post_add_to_queue(post=post, actor=request.user)
        local = schedule.next_occurrence_at.astimezone(schedule.zone)
        return self._acted(post, f"Queued for {local.isoformat()} ({schedule.timezone}).")

    # --- Approval: the same transitions as the post page's buttons (posts/approval.py),
    # which check the person's role; a key never approves (accounts/permissions.py).

    @POST_ACTION
    @action(detail=True, methods=["post"], url_path="review-request")
    @idempotent
    def review_request(self, request, pk=None):
        """Send the post for approval, in a workspace whose posts need it."""
        post = self.get_object()
        post_review_request(post=post, actor=request.user)
        return self._acted(post, "Sent for review; it goes out once an approver approves it.")

    @POST_ACTION
    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request, pk=None):
        """Approve a post in review (approvers and owners; one's own post only where the
        workspace allows it)."""
        post = self.get_object()
        post_approve(post=post, actor=request.user)
        return self._acted(post, "Approved; it goes out at its time.")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ChangesRequestSerializer,
        responses={200: ActionAnswerSerializer, **REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="request-changes")
    @idempotent
    def request_changes(self, request, pk=None):
        """Send a post in review back to its author, saying what should change."""
        post = self.get_object()
        caller_may(request, workspace_id=post.workspace_id, action=POST_APPROVE)
        given = ChangesRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        post_changes_request(post=post, actor=request.user, comment=given.validated_data["comment"])
        return self._acted(post, "Changes requested; the author is told.")

    def _acted(self, post: Post, message: str) -> Response:
        answer = self._answer(post)
        return Response({"detail": message, "post": answer.data})


class MediaSerializer(serializers.ModelSerializer):
    class Meta:
        model = MediaAsset
        fields = [
            "id",
            "workspace",
            "kind",
            "mime_type",
            "size_bytes",
            "width",
            "height",
            "duration_ms",
            "alt_text",
            "created_at",
        ]
        read_only_fields = fields


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG, GIF, WebP, MP4 or QuickTime.")
    alt_text = serializers.CharField(required=False, default="", allow_blank=True)
    workspace = serializers.IntegerField(
        required=False, help_text="By default an API key's own (people in several name it)."
    )


class MediaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The workspaces' media libraries; upload a file here, then name its id in a post."""

    serializer_class = MediaSerializer
    pagination_class = NewestFirst
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    filterset_fields = ["kind", "workspace"]
    ordering_fields = ["created_at", "size_bytes"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MediaAsset.objects.none()
        return MediaAsset.objects.filter(
            workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request={"multipart/form-data": MediaUploadSerializer},
        responses={201: MediaSerializer, **REFUSED},
    )
    @idempotent
    def create(self, request):
        given = MediaUploadSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        workspace = workspace_of_caller(request, given.validated_data.get("workspace"))
        caller_may(request, workspace_id=workspace.pk, action=POST_COMPOSE)
        asset = media_asset_create(
            workspace=workspace,
            file=given.validated_data["file"],
            alt_text=given.validated_data["alt_text"],
            actor=request.user,
        )
        return Response(MediaSerializer(asset).data, status=status.HTTP_201_CREATED)


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    workspace = serializers.IntegerField(
        source="workspace_id",
        required=False,
        help_text="By default an API key's own (people in several name it); set when made.",
    )
    name = serializers.CharField(max_length=60)


TAG_EXAMPLES = [
    OpenApiExample("A tag", value={"name": "Launch week"}, request_only=True),
    OpenApiExample(
        "A name the workspace has",
        value={"name": ["The workspace has a tag “Launch week” already."]},
        response_only=True,
        status_codes=["400"],
    ),
]


class ByName(NewestFirst):
    ordering = "name"


class LatestStartFirst(NewestFirst):
    ordering = "-starts_on"


class CampaignFilter(FilterSet):
    active_on = django_filters.DateFilter(
        method="active_on_filter", help_text="Campaigns running on this day."
    )

    class Meta:
        model = Campaign
        fields = ["workspace"]

    def active_on_filter(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


@extend_schema_view(
    list=extend_schema(responses={200: TagSerializer(many=True)}),
    update=extend_schema(responses={200: TagSerializer, **REFUSED_NOW}, examples=TAG_EXAMPLES),
    partial_update=extend_schema(
        responses={200: TagSerializer, **REFUSED_NOW}, examples=TAG_EXAMPLES
    ),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Removed from the workspace and its posts."),
            **REFUSED_NOW,
        }
    ),
)
class TagViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The workspaces' tags; name one in a post's `tags`. Renaming keeps it on its posts."""

    serializer_class = TagSerializer
    pagination_class = ByName
    filterset_fields = {"workspace": ["exact"], "name": ["exact", "icontains"]}
    ordering_fields = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tag.objects.none()
        return Tag.objects.filter(
            workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        ).order_by("name", "id")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: TagSerializer, **REFUSED},
        examples=TAG_EXAMPLES,
    )
    @idempotent
    def create(self, request):
        given = TagSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        workspace = workspace_of_caller(request, given.validated_data.get("workspace_id"))
        caller_may(request, workspace_id=workspace.pk, action=POST_COMPOSE)
        tag = tag_create(workspace=workspace, name=given.validated_data["name"], actor=request.user)
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        tag = self.get_object()
        caller_may(request, workspace_id=tag.workspace_id, action=POST_COMPOSE)
        given = TagSerializer(data=request.data, partial=partial)
        given.is_valid(raise_exception=True)
        unchanged_refuse(
            given.validated_data,
            name="workspace",
            source="workspace_id",
            current=tag.workspace_id,
            why="A tag stays in its workspace; make one in the other workspace instead.",
        )
        if "name" in given.validated_data:
            tag_rename(tag=tag, name=given.validated_data["name"], actor=request.user)
        return Response(TagSerializer(tag).data)

    def perform_destroy(self, tag: Tag) -> None:
        caller_may(self.request, workspace_id=tag.workspace_id, action=POST_COMPOSE)
        tag_delete(tag=tag, actor=self.request.user)


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "workspace", "name", "description", "starts_on", "ends_on", "timezone"]
        read_only_fields = fields


class CampaignWriteSerializer(serializers.Serializer):
    """A campaign as the caller wants it; the model's rules (its end on or after its
    start, a known zone) are checked by the service and named by field."""

    workspace = serializers.IntegerField(
        required=False,
        help_text="By default an API key's own (people in several name it); set when made.",
    )
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True)
    starts_on = serializers.DateField(help_text="Its first day.")
    ends_on = serializers.DateField(help_text="Its last day, on or after `starts_on`.")
    timezone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="IANA zone its days are in; empty: the workspace's.",
    )


CAMPAIGN_EXAMPLES = [
    OpenApiExample(
        "A week in November",
        value={
            "name": "Black Friday",
            "starts_on": "2026-11-23",
            "ends_on": "2026-11-29",
            "timezone": "America/New_York",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Ends before it starts",
        value={
            "ends_on": ["The campaign ends before it starts; give an end on or after 2026-11-23."]
        },
        response_only=True,
        status_codes=["400"],
    ),
]


class DistributeSerializer(serializers.Serializer):
    time_of_day = WallTimeField(
        default=time(19, 0), help_text="When each post goes out, in the campaign's zone."
    )


@extend_schema_view(
    list=extend_schema(responses={200: CampaignSerializer(many=True)}),
    retrieve=extend_schema(responses={200: CampaignSerializer, 404: REFUSED[404]}),
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=CampaignWriteSerializer,
        responses={201: CampaignSerializer, **REFUSED},
        examples=CAMPAIGN_EXAMPLES,
    ),
    update=extend_schema(
        request=CampaignWriteSerializer,
        responses={200: CampaignSerializer, **REFUSED_NOW},
        examples=CAMPAIGN_EXAMPLES,
    ),
    partial_update=extend_schema(
        request=CampaignWriteSerializer,
        responses={200: CampaignSerializer, **REFUSED_NOW},
        examples=CAMPAIGN_EXAMPLES,
    ),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Removed; its posts stay, in no campaign."),
            **REFUSED_NOW,
        }
    ),
)
class CampaignViewSet(viewsets.ModelViewSet):
    """The workspaces' campaigns; `distribute` spreads a campaign's posts over its days."""

    serializer_class = CampaignSerializer
    pagination_class = LatestStartFirst
    filterset_class = CampaignFilter
    ordering_fields = ["starts_on", "ends_on", "name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        return Campaign.objects.filter(
            workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        ).order_by("-starts_on", "id")

    def _given(self, request, *, partial: bool) -> dict:
        given = CampaignWriteSerializer(data=request.data, partial=partial)
        given.is_valid(raise_exception=True)
        return dict(given.validated_data)

    @idempotent
    def create(self, request):
        values = self._given(request, partial=False)
        workspace = workspace_of_caller(request, values.pop("workspace", None))
        caller_may(request, workspace_id=workspace.pk, action=POST_COMPOSE)
        campaign = campaign_create(workspace=workspace, actor=request.user, **values)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial: bool = False):
        campaign = self.get_object()
        caller_may(request, workspace_id=campaign.workspace_id, action=POST_COMPOSE)
        values = self._given(request, partial=partial)
        unchanged_refuse(
            values,
            name="workspace",
            current=campaign.workspace_id,
            why="A campaign stays in its workspace; make one in the other workspace instead.",
        )
        values.pop("workspace", None)
        campaign = campaign_update(campaign=campaign, actor=request.user, **values)
        return Response(CampaignSerializer(campaign).data)

    def perform_destroy(self, campaign: Campaign) -> None:
        caller_may(self.request, workspace_id=campaign.workspace_id, action=POST_COMPOSE)
        campaign_delete(campaign=campaign, actor=self.request.user)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=DistributeSerializer,
        responses={200: ScheduleSerializer(many=True), **REFUSED},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def distribute(self, request, pk=None):
        """Schedule the campaign's posts one a day, all or none."""
        campaign = self.get_object()
        caller_may(request, workspace_id=campaign.workspace_id, action=POST_SCHEDULE)
        given = DistributeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        schedules = campaign_distribute(
            campaign=campaign, actor=request.user, time_of_day=given.validated_data["time_of_day"]
        )
        return Response(ScheduleSerializer(schedules, many=True).data)
