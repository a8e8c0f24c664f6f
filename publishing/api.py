"""The publishing API: what staff can do to a job, for integrations."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import POST_PUBLISH, WORKSPACE_VIEW, member_may, workspaces_where
from publishing.models import PublishJob
from publishing.services import PostNotDeleted, job_delete_published


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


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
