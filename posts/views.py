"""A library file: for the people of its workspace (thumbnails and previews in the admin),
and for a network fetching it by a signed, short-lived address (posts/media_urls.py)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpRequest

from accounts.permissions import WORKSPACE_VIEW, workspaces_where
from posts.media_urls import media_asset_for_token
from posts.models import MediaAsset


@staff_member_required
def media_file(request: HttpRequest, asset_id: int) -> FileResponse:
    asset = (
        MediaAsset.objects.filter(
            workspace__in=workspaces_where(user=request.user, action=WORKSPACE_VIEW)
        )
        .filter(pk=asset_id)
        .first()
    )
    if asset is None:
        raise Http404("No such file in your workspaces.")
    response = FileResponse(asset.file.open("rb"), content_type=asset.mime_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def media_file_signed(request: HttpRequest, token: str) -> FileResponse:
    """The file a signed address names, to anyone holding it until it lapses (Meta's
    servers download Instagram and Facebook media from here)."""
    asset = media_asset_for_token(token)
    if asset is None:
        raise Http404("This file address has lapsed or is not one Kairos gave.")
    response = FileResponse(asset.file.open("rb"), content_type=asset.mime_type)
    response["Cache-Control"] = "private, no-store"
    return response
