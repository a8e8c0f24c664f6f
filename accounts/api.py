"""The accounts API: starting to connect a network account."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Workspace
from accounts.permissions import WORKSPACE_VIEW, workspaces_where
from publishing.connect import social_account_connect_start
from publishing.networks.base import ConnectError


class XConnectRequestSerializer(serializers.Serializer):
    workspace = serializers.PrimaryKeyRelatedField(
        queryset=Workspace.objects.none(), help_text="Id of the workspace the account joins."
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "request" in self.context:
            self.fields["workspace"].queryset = workspaces_where(
                user=self.context["request"].user, action=WORKSPACE_VIEW
            )


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
        given = XConnectRequestSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        try:
            url = social_account_connect_start(
                user=request.user, workspace=given.validated_data["workspace"], network="x"
            )
        except ConnectError as problem:
            return Response({"detail": str(problem)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(XConnectAnswerSerializer({"authorize_url": url}).data)
