"""The accounts API: the accounts with their health, pausing and resuming them,
connecting one (starting X's sign-in, or Bluesky's handle and app password), and the
workspaces' API keys (for owners signed in)."""

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.keys import api_key_create, api_key_expiry_problem, api_key_revoke
from accounts.models import AuditEvent, SocialAccount, Workspace, WorkspaceApiKey
from accounts.permissions import (
    ACCOUNT_MANAGE,
    WORKSPACE_MANAGE,
    WORKSPACE_VIEW,
    workspaces_where,
)
from accounts.principals import ApiKeyPrincipal
from accounts.services import social_account_pause, social_account_resume
from config.api_auth import KeyOrStaff
from config.api_common import Conflict, ManagersOnly, NewestFirst, OldestFirst, caller_may
from config.api_errors import FEATURE_OFF_SCHEMA, FeatureOff
from config.api_idempotency import IDEMPOTENCY_PARAMETER, idempotent
from publishing.connect import social_account_connect_start, social_account_connect_with
from publishing.networks.base import ConnectError, ConnectOff
from publishing.selectors import social_account_health


class WorkspaceSerializer(serializers.Serializer):
    workspace = serializers.PrimaryKeyRelatedField(
        queryset=Workspace.objects.none(), help_text="Id of the workspace the account joins."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["workspace"].queryset = workspaces_where(
                user=self.context["request"].user, action=WORKSPACE_VIEW
            )


CONNECT_ANSWERS = {
    400: OpenApiResponse(description="Refused: `detail` (or the field named) says why."),
    403: OpenApiResponse(
        response=FEATURE_OFF_SCHEMA,
        description="An API key (connecting needs a person in a browser), a role that may not "
        "add accounts, or connecting this network is off on this Kairos: then `setting` names "
        "what an operator sets.",
    ),
}


class XConnectRequestSerializer(WorkspaceSerializer):
    """The workspace an X account joins; the rest happens on X."""


class XConnectAnswerSerializer(serializers.Serializer):
    authorize_url = serializers.URLField(
        help_text="Send the person here to sign in to X and allow Kairos. Valid 10 minutes."
    )


class XConnectView(APIView):
    """Start connecting an X account to a workspace.

    Open `authorize_url` in a browser signed in to Kairos as the caller: the person
    signs in to X and allows Kairos, X sends them back to Kairos, and the account is
    stored (or, if known, reconnected). Within 10 minutes, once. Answered 403 naming the
    setting (`X_CLIENT_ID`) while Kairos has no X app.
    """

    @extend_schema(
        request=XConnectRequestSerializer,
        responses={200: XConnectAnswerSerializer, **CONNECT_ANSWERS},
    )
    def post(self, request: Request) -> Response:
        return _connect_started(
            request,
            network="x",
            given=XConnectRequestSerializer,
        )


class MastodonConnectRequestSerializer(XConnectRequestSerializer):
    instance = serializers.CharField(
        max_length=200,
        help_text="The Mastodon instance the account lives on, such as mastodon.social.",
    )


class MastodonConnectAnswerSerializer(serializers.Serializer):
    authorize_url = serializers.URLField(
        help_text="Send the person here to sign in on their instance and allow Kairos. Valid "
        "10 minutes."
    )


class MastodonConnectView(APIView):
    """Start connecting a Mastodon account to a workspace.

    The first account of an instance registers Kairos there as an app. Open
    `authorize_url` in a browser signed in to Kairos as the caller: the person signs
    in on their instance and allows Kairos, the instance sends them back to Kairos,
    and the account is stored (or, if known, reconnected). Within 10 minutes, once.
    An instance address Kairos cannot use, or an instance that would not register
    Kairos, is answered 400 with `detail` saying why.
    """

    @extend_schema(
        request=MastodonConnectRequestSerializer,
        responses={200: MastodonConnectAnswerSerializer, **CONNECT_ANSWERS},
    )
    def post(self, request: Request) -> Response:
        return _connect_started(
            request,
            network="mastodon",
            given=MastodonConnectRequestSerializer,
        )


class MetaConnectView(APIView):
    """Start connecting Facebook Pages (or, at /instagram/connect/, Instagram professional
    accounts) to a workspace.

    Open `authorize_url` in a browser signed in to Kairos as the caller: the person
    signs in with Facebook and allows Kairos, Facebook sends them back to Kairos, and
    there they choose which of the Pages they manage (or the Instagram accounts linked
    to them) to connect. Within 10 minutes, once. Answered 403 naming the setting
    (`META_APP_ID`) while Kairos has no Meta app.
    """

    network = "facebook"

    @extend_schema(
        request=XConnectRequestSerializer,
        responses={200: XConnectAnswerSerializer, **CONNECT_ANSWERS},
    )
    def post(self, request: Request) -> Response:
        return _connect_started(
            request,
            network=self.network,
            given=XConnectRequestSerializer,
        )


class LinkedInConnectView(MetaConnectView):
    """Start connecting a LinkedIn member, or the organization pages they administer, to a
    workspace.

    Open `authorize_url` in a browser signed in to Kairos as the caller: the person
    signs in to LinkedIn and allows Kairos, LinkedIn sends them back to Kairos, and
    there they choose to connect themselves and/or the organizations they administer.
    Within 10 minutes, once. Answered 403 naming the setting (`LINKEDIN_CLIENT_ID`)
    while Kairos has no LinkedIn app.
    """

    network = "linkedin"


def _connect_started(
    request: Request, *, network: str, given: type[XConnectRequestSerializer]
) -> Response:
    if isinstance(request.user, ApiKeyPrincipal):
        raise PermissionDenied(
            "Connecting an account by signing in on the network needs a person signed in to "
            "Kairos (the network sends their browser back to Kairos); use the admin."
        )
    data = given(data=request.data, context={"request": request})
    data.is_valid(raise_exception=True)
    try:
        url = social_account_connect_start(
            user=request.user,
            workspace=data.validated_data["workspace"],
            network=network,
            server=data.validated_data.get("instance", ""),
        )
    except ConnectOff as off:
        raise FeatureOff(str(off), setting=off.setting) from None
    except ConnectError as problem:
        return Response({"detail": str(problem)}, status=status.HTTP_400_BAD_REQUEST)
    return Response({"authorize_url": url})


class BlueskyConnectRequestSerializer(WorkspaceSerializer):
    identifier = serializers.CharField(help_text="The account's handle (or its email).")
    app_password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        help_text="An app password made in Bluesky (Settings → Privacy and security → App "
        "passwords). Used once to sign in; Kairos does not keep it.",
    )
    pds = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The account's hosting provider; by default Kairos's BLUESKY_PDS_URL.",
    )


class ConnectedAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    network = serializers.CharField()
    handle = serializers.CharField()
    external_id = serializers.CharField(help_text="The account's DID on Bluesky.")
    status = serializers.CharField()


class BlueskyConnectView(APIView):
    """Connect a Bluesky account to a workspace with its handle and an app password.

    Kairos signs in once and keeps only the session Bluesky gives back; an account
    already known is reconnected (a waiting one goes back to publishing).
    """

    @extend_schema(request=BlueskyConnectRequestSerializer, responses=ConnectedAccountSerializer)
    def post(self, request: Request) -> Response:
        given = BlueskyConnectRequestSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        values = dict(given.validated_data)
        workspace = values.pop("workspace")
        try:
            account = social_account_connect_with(
                user=request.user, workspace=workspace, network="bluesky", values=values
            )
        except ConnectError as problem:
            return Response({"detail": str(problem)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(ConnectedAccountSerializer(account).data)


class SocialAccountSerializer(serializers.ModelSerializer):
    health = serializers.SerializerMethodField(
        help_text="What stands between the account and its next post, most pressing first."
    )

    class Meta:
        model = SocialAccount
        fields = [
            "id",
            "workspace",
            "network",
            "handle",
            "display_name",
            "status",
            "token_expires_at",
            "followers_count",
            "billing_problem",
            "health",
        ]
        read_only_fields = fields

    def get_health(self, account: SocialAccount) -> list[str]:
        return social_account_health(account=account, now=timezone.now())


ACCOUNT_REFUSED = {
    403: OpenApiResponse(description="The caller's role or key scopes do not allow it."),
    404: OpenApiResponse(description="No such account in the caller's workspaces."),
    409: OpenApiResponse(description="The account is not in a state that allows it."),
    422: OpenApiResponse(description="This Idempotency-Key was used for another request."),
}


class SocialAccountViewSet(viewsets.ReadOnlyModelViewSet):
    """The accounts of the caller's workspaces, with their health; owners (and keys with
    the `admin` scope) pause and resume them."""

    serializer_class = SocialAccountSerializer
    pagination_class = OldestFirst
    filterset_fields = ["workspace", "network", "status"]
    ordering_fields = ["id", "handle"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SocialAccount.objects.none()
        return SocialAccount.objects.filter(
            workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        ).order_by("id")

    def _moved(self, request, move, refusal: str) -> Response:
        account = self.get_object()
        caller_may(request, workspace_id=account.workspace_id, action=ACCOUNT_MANAGE)
        if not move(account=account, actor=request.user):
            raise Conflict(refusal)
        account.refresh_from_db()
        return Response(self.get_serializer(account).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=None,
        responses={200: SocialAccountSerializer, **ACCOUNT_REFUSED},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def pause(self, request, pk=None):
        """Stop publishing to the account until it is resumed."""
        return self._moved(request, social_account_pause, "Only an active account is paused.")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=None,
        responses={200: SocialAccountSerializer, **ACCOUNT_REFUSED},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def resume(self, request, pk=None):
        """Publish to a paused account again."""
        return self._moved(request, social_account_resume, "Only a paused account is resumed.")


class AuditEventSerializer(serializers.ModelSerializer):
    subject_type = serializers.CharField(source="subject_type.model")
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "workspace",
            "actor",
            "action",
            "subject_type",
            "subject_id",
            "from_status",
            "to_status",
            "message",
            "data",
            "created_at",
        ]
        read_only_fields = fields


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """What happened in the caller's workspaces, who did it (a person, or `data.api_key`)
    and when, newest first."""

    serializer_class = AuditEventSerializer
    pagination_class = NewestFirst
    filterset_fields = ["workspace", "action", "subject_id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return AuditEvent.objects.filter(
            workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_VIEW)
        ).select_related("actor", "subject_type")


class KeyPages(NewestFirst):
    ordering = "-created"


class PeopleOnly(permissions.BasePermission):
    """Refuses API keys: a key never makes, lists or revokes keys.

    A leaked key must not be able to mint keys: one that could would outlive its own
    revocation (the thief makes a fresh key first) and widen its own scopes. Keys are
    made by an owner who signed in (session or HTTP Basic), as in the admin.
    """

    message = (
        "API keys are managed by an owner signed in (session or HTTP Basic), never with an API key."
    )

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.user, ApiKeyPrincipal)


class ApiKeySerializer(serializers.ModelSerializer):
    workspace = serializers.PrimaryKeyRelatedField(
        queryset=Workspace.objects.none(), help_text="Id of a workspace you own."
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=WorkspaceApiKey.Scope.choices),
        help_text="Any of read, write, publish, admin.",
    )
    expires_at = serializers.DateTimeField(
        source="expiry_date",
        required=False,
        allow_null=True,
        help_text="When it stops working; empty: until revoked.",
    )
    key = serializers.SerializerMethodField(
        help_text="The key (`Authorization: Api-Key <key>`): in the answer to its creation "
        "only; Kairos keeps a hash, so it cannot be shown again."
    )

    class Meta:
        model = WorkspaceApiKey
        fields = [
            "prefix",
            "workspace",
            "name",
            "scopes",
            "created",
            "expires_at",
            "last_used_at",
            "revoked",
            "key",
        ]
        read_only_fields = ["prefix", "created", "last_used_at", "revoked"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["workspace"].queryset = workspaces_where(
                user=self.context["request"].user, action=WORKSPACE_VIEW
            )

    def get_key(self, key) -> str | None:
        return self.context.get("new_key")

    def validate_expires_at(self, expires_at):
        if problem := api_key_expiry_problem(expires_at):
            raise serializers.ValidationError(problem)
        return expires_at


API_KEY_REFUSED = {
    400: OpenApiResponse(description="Refused: the body names each field and what to change."),
    403: OpenApiResponse(
        description="Called with an API key, or the caller is not an owner of the workspace."
    ),
    404: OpenApiResponse(description="No such key in the workspaces the caller owns."),
}


@extend_schema_view(
    list=extend_schema(responses={200: ApiKeySerializer(many=True)}),
    retrieve=extend_schema(responses={200: ApiKeySerializer, 404: API_KEY_REFUSED[404]}),
    create=extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: ApiKeySerializer,
            **API_KEY_REFUSED,
            409: OpenApiResponse(
                description="A request with this Idempotency-Key is still being done."
            ),
            422: OpenApiResponse(description="This Idempotency-Key was used for another request."),
        },
        examples=[
            OpenApiExample(
                "A key for a CRM",
                value={"workspace": 1, "name": "CRM sync", "scopes": ["read", "write"]},
                request_only=True,
            ),
            OpenApiExample(
                "Made: the key, once",
                value={
                    "prefix": "Xb3kQ9aZ",
                    "workspace": 1,
                    "name": "CRM sync",
                    "scopes": ["read", "write"],
                    "created": "2026-12-03T16:40:00Z",
                    "expires_at": None,
                    "last_used_at": None,
                    "revoked": False,
                    "key": "Xb3kQ9aZ.c2VjcmV0LXNob3duLW9uY2U",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Revoked: the key stops working, for good."),
            **API_KEY_REFUSED,
            409: OpenApiResponse(description="The key was revoked already."),
        }
    ),
)
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """API keys of the workspaces the caller owns: make one (the key is in the answer,
    once), see them (by prefix, with when each was last used), revoke one (DELETE).
    For people signed in only (`PeopleOnly` says why); accounts/keys.py makes and revokes
    them, as for the admin."""

    serializer_class = ApiKeySerializer
    permission_classes = [KeyOrStaff, PeopleOnly, ManagersOnly]
    pagination_class = KeyPages
    lookup_field = "prefix"
    filterset_fields = ["workspace", "revoked"]
    ordering_fields = ["created", "name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkspaceApiKey.objects.none()
        return WorkspaceApiKey.objects.filter(
            workspace__in=workspaces_where(user=self.request.user, action=WORKSPACE_MANAGE)
        )

    @idempotent
    def create(self, request):
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        caller_may(request, workspace_id=values["workspace"].pk, action=WORKSPACE_MANAGE)
        key, secret = api_key_create(
            workspace=values["workspace"],
            name=values["name"],
            scopes=values["scopes"],
            expires_at=values.get("expiry_date"),
            actor=request.user,
        )
        answer = ApiKeySerializer(key, context={**self.get_serializer_context(), "new_key": secret})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, key: WorkspaceApiKey) -> None:
        if not api_key_revoke(key=key, actor=self.request.user):
            raise Conflict("This key was revoked already.")
