"""A library file: for the people of its workspace (thumbnails and previews in the admin),
for a network fetching it by a signed, short-lived address (posts/media_urls.py), and the
composer's live preview."""

import json
from zoneinfo import ZoneInfo

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import SocialAccount, Workspace
from accounts.permissions import POST_COMPOSE, WORKSPACE_VIEW, workspaces_where
from accounts.timezones import zone_canonical_name, zone_get
from posts.media_urls import media_asset_for_token
from posts.models import MediaAsset
from posts.services import text_variants_parse
from publishing import stores
from publishing.preview import AccountPreview, DraftPart, draft_preview


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


def composer_preview(request: HttpRequest) -> JsonResponse:
    """What the post being composed looks like on each chosen account, for the composer's
    counters and preview (posts/static/posts/composer_preview.js posts the form's
    current values here as the person types).

    Asked with JSON: `workspace` (id or empty), `parts` ([{text, media: [library ids]}],
    in the page's order), `accounts` (ids), `own_texts` ({account id: text}),
    `variants` (the box's text) and `timezone`. Composing is an editor's: an account or
    file of a workspace the person cannot see is not found (404), one of a workspace
    where they may only look is refused (403). Reading changes nothing, so nothing is
    audited.
    """
    if request.method != "POST":
        return JsonResponse({"error": "Send the composer's values with POST."}, status=405)
    try:
        asked = _question_read(request.body)
    except (ValueError, TypeError, KeyError, AttributeError):
        return JsonResponse(
            {"error": "The composer's values could not be read; reload the page."}, status=400
        )
    try:
        draft = _draft_find(asked, user=request.user)
    except Http404 as missing:
        return JsonResponse({"error": str(missing)}, status=404)
    except PermissionDenied as refused:
        return JsonResponse({"error": str(refused)}, status=403)
    previews = draft_preview(**draft, now=timezone.now())
    return JsonResponse({"accounts": [_preview_json(preview) for preview in previews]})


def _question_read(body: bytes) -> dict:
    """The composer's values as plain, typed data; raises ValueError, TypeError,
    KeyError or AttributeError on anything else."""
    asked = json.loads(body)
    workspace = asked.get("workspace")
    return {
        "workspace": int(workspace) if workspace else None,
        "accounts": list(dict.fromkeys(int(pk) for pk in asked.get("accounts") or [])),
        "parts": [
            (str(part["text"]), [int(pk) for pk in part.get("media") or []])
            for part in asked.get("parts") or []
        ],
        "own_texts": {int(pk): str(text) for pk, text in (asked.get("own_texts") or {}).items()},
        "variants": str(asked.get("variants") or ""),
        "timezone": str(asked.get("timezone") or "").strip(),
    }


def _draft_find(asked: dict, *, user) -> dict:
    """The draft's accounts, parts, own texts, variants and zone, each id looked up in the
    workspaces the person may compose in (and in the form's workspace, when chosen)."""
    composing = workspaces_where(user=user, action=POST_COMPOSE)
    visible = workspaces_where(user=user, action=WORKSPACE_VIEW)
    workspace = None
    if asked["workspace"] is not None:
        (workspace,) = _scope_check(
            Workspace, [asked["workspace"]], composing=composing, visible=visible
        )
        # The rest is looked for in the form's workspace only.
        composing, visible = composing.filter(pk=workspace.pk), visible.filter(pk=workspace.pk)
    accounts = _scope_check(SocialAccount, asked["accounts"], composing=composing, visible=visible)
    media_ids = {pk for _, media in asked["parts"] for pk in media}
    library = _scope_check(MediaAsset, media_ids, composing=composing, visible=visible)
    files = {asset.pk: stores.media_file(asset) for asset in library}
    if workspace is None and accounts:
        workspace = accounts[0].workspace
    by_id = {account.pk: account for account in accounts}
    return {
        "accounts": [by_id[pk] for pk in asked["accounts"]],
        "parts": [
            DraftPart(text=text, media=tuple(files[pk] for pk in media))
            for text, media in asked["parts"]
        ],
        "own_texts": asked["own_texts"],
        "variants": text_variants_parse(asked["variants"]),
        "zone": _zone_chosen(asked["timezone"], workspace=workspace),
    }


SCOPE_NOUNS = {Workspace: "workspace", SocialAccount: "account", MediaAsset: "file"}


def _scope_check(model, ids, *, composing, visible) -> list:
    """The rows `ids` of `model`, if all are in workspaces where the person may compose:
    one they cannot see (or that does not exist) is not found, one they may only look at
    is refused."""
    ids = set(ids)
    if not ids:
        return []
    path = "pk" if model is Workspace else "workspace"
    related = [] if model is Workspace else ["workspace"]
    rows = list(
        model.objects.filter(id__in=ids, **{f"{path}__in": composing}).select_related(*related)
    )
    missing = ids - {row.pk for row in rows}
    if not missing:
        return rows
    noun = SCOPE_NOUNS[model]
    if model.objects.filter(id__in=missing, **{f"{path}__in": visible}).exists():
        raise PermissionDenied(f"Your role does not let you compose with this {noun}.")
    raise Http404(f"No such {noun} in your workspaces.")


def _zone_chosen(name: str, *, workspace: Workspace | None) -> ZoneInfo:
    """The zone typed on the form, else the workspace's default (UTC without either)."""
    try:
        return zone_get(zone_canonical_name(name)) if name else _zone_default(workspace)
    except ValidationError:
        # Half-typed as the person types; the form names the problem when saved.
        return _zone_default(workspace)


def _zone_default(workspace: Workspace | None) -> ZoneInfo:
    return zone_get(workspace.default_timezone) if workspace else ZoneInfo("UTC")


def _preview_json(preview: AccountPreview) -> dict:
    return {
        "id": preview.account_id,
        "name": preview.name,
        "handle": preview.handle,
        "display_name": preview.display_name,
        "network": preview.network,
        "network_label": preview.network_label,
        "limit": preview.limit,
        "over_limit": preview.over_limit,
        "own_text": preview.own_text,
        "problems": list(preview.problems),
        "parts": [
            {
                "text": part.text,
                "length": part.length,
                "over": preview.limit is not None and part.length > preview.limit,
                "media": [
                    {
                        "id": file.asset_id,
                        "kind": str(file.kind),
                        "name": str(file),
                        "alt": file.alt_text,
                        "url": reverse("media-file", args=[file.asset_id]),
                    }
                    for file in part.media
                ],
            }
            for part in preview.parts
        ],
    }
