"""The publishing API: what staff can do to a job, for integrations."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import workspaces_for_user
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
            409: OpenApiResponse(description="The job has not published a post."),
            502: OpenApiResponse(description="The network did not delete it; try again."),
        },
    )
    def delete(self, request, job_id: int) -> Response:
        job = get_object_or_404(
            PublishJob.objects.filter(
                post__workspace__in=workspaces_for_user(user=request.user)
            ).select_related("account", "post__workspace"),
            pk=job_id,
        )
        try:
            job_delete_published(job=job, actor=request.user)
        except ValidationError as error:
            raise Conflict(error.messages[0]) from error
        except PostNotDeleted as error:
            raise NetworkRefused(error.message) from error
        return Response(status=status.HTTP_204_NO_CONTENT)
