"""The accounts API: connecting a network account (starting X's sign-in, or Bluesky's
handle and app password)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Workspace
from accounts.permissions import WORKSPACE_VIEW, workspaces_where
from publishing.connect import social_account_connect_start, social_account_connect_with
from publishing.networks.base import ConnectError


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
    stored (or, if known, reconnected). Within 10 minutes, once.
    """

    @extend_schema(request=XConnectRequestSerializer, responses=XConnectAnswerSerializer)
    def post(self, request: Request) -> Response:
        return _connect_started(
            request,
            network="x",
            given=XConnectRequestSerializer,
            refused=status.HTTP_503_SERVICE_UNAVAILABLE,
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
        request=MastodonConnectRequestSerializer, responses=MastodonConnectAnswerSerializer
    )
    def post(self, request: Request) -> Response:
        return _connect_started(
            request,
            network="mastodon",
            given=MastodonConnectRequestSerializer,
            refused=status.HTTP_400_BAD_REQUEST,
        )


class MetaConnectView(APIView):
    """Start connecting Facebook Pages (or, at /instagram/connect/, Instagram professional
    accounts) to a workspace.

    Open `authorize_url` in a browser signed in to Kairos as the caller: the person
    signs in with Facebook and allows Kairos, Facebook sends them back to Kairos, and
    there they choose which of the Pages they manage (or the Instagram accounts linked
    to them) to connect. Within 10 minutes, once. Answered 503 while Kairos has no Meta
    app (META_APP_ID).
    """

    network = "facebook"

    @extend_schema(request=XConnectRequestSerializer, responses=XConnectAnswerSerializer)
    def post(self, request: Request) -> Response:
        return _connect_started(
            request,
            network=self.network,
            given=XConnectRequestSerializer,
            refused=status.HTTP_503_SERVICE_UNAVAILABLE,
        )


class LinkedInConnectView(MetaConnectView):
    """Start connecting a LinkedIn member, or the organization pages they administer, to a
    workspace.

    Open `authorize_url` in a browser signed in to Kairos as the caller: the person
    signs in to LinkedIn and allows Kairos, LinkedIn sends them back to Kairos, and
    there they choose to connect themselves and/or the organizations they administer.
    Within 10 minutes, once. Answered 503 while Kairos has no LinkedIn app
    (LINKEDIN_CLIENT_ID).
    """

    network = "linkedin"


def _connect_started(
    request: Request, *, network: str, given: type[XConnectRequestSerializer], refused: int
) -> Response:
    data = given(data=request.data, context={"request": request})
    data.is_valid(raise_exception=True)
    try:
        url = social_account_connect_start(
            user=request.user,
            workspace=data.validated_data["workspace"],
            network=network,
            server=data.validated_data.get("instance", ""),
        )
    except ConnectError as problem:
        return Response({"detail": str(problem)}, status=refused)
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
