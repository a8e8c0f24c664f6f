"""The REST endpoints Kairos uses: instance, statuses, media, accounts.

Bodies and error wording are Mastodon's as reference/networks.md quotes them;
`[inf]` marks a choice where it is silent. Every error is `{"error": "..."}`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

import regex

from fakemastodon.state import Caller, Media, Status, World
from fakex.media import parse_multipart
from fakex.wire import Request, Response

IDEMPOTENCY_SECONDS = 60 * 60
TIMELINE_DEFAULT_LIMIT = 20
TIMELINE_MAX_LIMIT = 40
# Mastodon links only URLs with their scheme, and leaves closing punctuation out [inf].
URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
MENTION = re.compile(r"@(\w+)@[\w.-]+\w")
NOT_FOUND = "Record not found"
NOT_PROCESSED = "Cannot attach files that have not finished processing. Try again in a moment!"
VIDEO_WITH_IMAGES = "Cannot attach a video to a post that already contains images"
VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})


def error(status: int, message: str) -> Response:
    return Response(status, {"error": message})


# --- Instance -------------------------------------------------------------------------


def instance(world: World, request: Request) -> Response:
    with world.lock:
        configuration = world.configuration.as_json()
    return Response(
        200,
        {
            "domain": world.domain,
            "title": "Fake Mastodon",
            "version": "4.3.0",
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "A fake Mastodon instance for Kairos's tests.",
            "api_versions": {"mastodon": 2},
            "configuration": configuration,
            "registrations": {"enabled": False, "approval_required": False, "message": None},
        },
    )


# --- Statuses -------------------------------------------------------------------------


def status_create(world: World, request: Request, caller: Caller) -> Response:
    try:
        params = request_params(request)
    except ValueError:
        return error(400, "The request body could not be read")  # [inf]
    text = str(params.get("status") or "")
    media_ids = [str(media_id) for media_id in params.get("media_ids") or []]
    reply_to = params.get("in_reply_to_id")
    visibility = params.get("visibility") or "public"
    if visibility not in VISIBILITIES:
        return error(422, "Validation failed: Visibility is not included in the list")  # [inf]
    key = request.header("idempotency-key")
    with world.lock:
        now = world.now()
        replay = _idempotent_status(world, caller, key, now)
        if replay is not None:
            world.stats.idempotent_replays[(caller.account_id, text)] += 1
            return Response(200, status_json(world, replay))
        refusal = _refusal(world, caller, text, media_ids, now)
        if refusal is not None:
            return refusal
        parent = world.statuses.get(str(reply_to)) if reply_to else None
        if reply_to and (parent is None or parent.deleted):
            return error(404, NOT_FOUND)
        status = Status(
            id=world.next_id(),
            account_id=caller.account_id,
            text=text,
            created_at=now,
            visibility=visibility,
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            media_ids=tuple(media_ids),
            language=params.get("language"),
            sensitive=bool(params.get("sensitive")),
            spoiler_text=str(params.get("spoiler_text") or ""),
            application=caller.client_id,
        )
        world.statuses[status.id] = status
        if parent is not None:
            parent.replies_count += 1
        for media_id in media_ids:
            world.media[media_id].status_id = status.id
        if key:
            world.idempotency[(caller.account_id, key)] = (status.id, now + IDEMPOTENCY_SECONDS)
        world.stats.statuses_created[(caller.account_id, text)] += 1
        return Response(200, status_json(world, status))


def status_delete(world: World, request: Request, caller: Caller) -> Response:
    with world.lock:
        status = world.statuses.get(request.path_params["id"])
        if status is None or status.deleted or status.account_id != caller.account_id:
            return error(404, NOT_FOUND)
        status.deleted = True
        # The answer carries the source text, for "delete and redraft".
        return Response(200, {**status_json(world, status), "text": status.text})


def status_get(world: World, request: Request, caller: Caller | None) -> Response:
    with world.lock:
        status = world.statuses.get(request.path_params["id"])
        if status is None or status.deleted:
            return error(404, NOT_FOUND)
        return Response(200, status_json(world, status))


def statuses_get(world: World, request: Request, caller: Caller | None) -> Response:
    """GET /api/v1/statuses?id[]=…: the statuses found, in the order asked, others left out."""
    ids = _query_lists(request).get("id[]", [])
    with world.lock:
        found = [world.statuses.get(status_id) for status_id in ids]
        return Response(
            200, [status_json(world, s) for s in found if s is not None and not s.deleted]
        )


def account_statuses(world: World, request: Request, caller: Caller | None) -> Response:
    """An account's statuses, newest first, paged by ids, with a `Link` header."""
    query = request.query
    try:
        limit = min(int(query.get("limit", TIMELINE_DEFAULT_LIMIT)), TIMELINE_MAX_LIMIT)
    except ValueError:
        limit = TIMELINE_DEFAULT_LIMIT
    with world.lock:
        account_id = request.path_params["id"]
        if account_id not in world.accounts:
            return error(404, NOT_FOUND)
        statuses = world.live_statuses_of(account_id)
        if query.get("exclude_replies") == "true":
            statuses = [s for s in statuses if s.in_reply_to_account_id in (None, account_id)]
        if query.get("max_id"):
            statuses = [s for s in statuses if int(s.id) < int(query["max_id"])]
        lower = query.get("min_id") or query.get("since_id")
        if lower:
            statuses = [s for s in statuses if int(s.id) > int(lower)]
        # min_id pages forward from it (the oldest newer ones); since_id keeps the newest.
        page = statuses[-limit:] if query.get("min_id") else statuses[:limit]
        body = [status_json(world, status) for status in page]
    headers = {}
    if page:
        base = f"https://{world.domain}/api/v1/accounts/{account_id}/statuses"
        headers["link"] = (
            f'<{base}?{urlencode({"limit": limit, "max_id": page[-1].id})}>; rel="next", '
            f'<{base}?{urlencode({"limit": limit, "min_id": page[0].id})}>; rel="prev"'
        )
    return Response(200, body, headers=headers)


def status_json(world: World, status: Status) -> dict[str, Any]:
    account = world.accounts[status.account_id]
    return {
        "id": status.id,
        "created_at": iso(status.created_at),
        "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": status.in_reply_to_account_id,
        "sensitive": status.sensitive,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "language": status.language,
        "uri": f"https://{world.domain}/users/{account.username}/statuses/{status.id}",
        "url": world.status_url(status),
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "quotes_count": status.quotes_count,
        "edited_at": None,
        "content": content_html(status.text),
        "reblog": None,
        "application": {"name": status.application, "website": None},
        "account": account_json(world, status.account_id),
        "media_attachments": [media_json(world.media[m], world) for m in status.media_ids],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def content_html(text: str) -> str:
    """The status as Mastodon renders it: escaped, paragraphs, `<br />`, links shortened
    for display with the full address kept in hidden spans."""
    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p]
    return "".join(f"<p>{_linked(p).replace(chr(10), '<br />')}</p>" for p in paragraphs)


def _linked(paragraph: str) -> str:
    out, position = [], 0
    for match in URL.finditer(paragraph):
        out.append(html.escape(paragraph[position : match.start()], quote=False))
        url = match.group()
        scheme, _, rest = url.partition("://")
        shown, hidden = rest[:30], rest[30:]
        out.append(
            f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener">'
            f'<span class="invisible">{scheme}://</span>'
            f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(hidden)}</span></a>'
        )
        position = match.end()
    out.append(html.escape(paragraph[position:], quote=False))
    return "".join(out)


def text_length(text: str, *, characters_per_url: int) -> int:
    """Mastodon's StatusLengthValidator: grapheme clusters, each URL as a fixed count,
    a remote mention as its local part."""
    countable = URL.sub("\x01" * characters_per_url, text)
    countable = MENTION.sub(lambda match: f"@{match.group(1)}", countable)
    return len(regex.findall(r"\X", countable))


def _refusal(
    world: World, caller: Caller, text: str, media_ids: list[str], now: float
) -> Response | None:
    configuration = world.configuration
    if not text.strip() and not media_ids:
        return error(422, "Validation failed: Text can't be blank")
    if (
        text_length(text, characters_per_url=configuration.characters_reserved_per_url)
        > configuration.max_characters
    ):
        return error(
            422,
            f"Validation failed: Text character limit of {configuration.max_characters} exceeded",
        )
    if len(media_ids) > configuration.max_media_attachments:
        return error(422, f"Cannot attach more than {configuration.max_media_attachments} files")
    attachments = [world.media.get(media_id) for media_id in media_ids]
    unusable = [
        media_id
        for media_id, media in zip(media_ids, attachments, strict=True)
        if media is None or media.account_id != caller.account_id or media.status_id is not None
    ]
    if unusable:
        return error(
            422, f"Media {', '.join(unusable)} not found or already attached to another post"
        )
    if any(media.ready_at > now for media in attachments if media is not None):
        return error(422, NOT_PROCESSED)
    # A video or GIF goes alone (PostStatusService: more than one file, one of them a video).
    if len(attachments) > 1 and any(media and media.kind != "image" for media in attachments):
        return error(422, VIDEO_WITH_IMAGES)
    return None


def _idempotent_status(world: World, caller: Caller, key: str, now: float) -> Status | None:
    """The status an earlier request with this key made, within the key's hour.

    A status deleted since is forgotten, and the request makes a new one (Mastodon
    finds the status by id, and finds none).
    """
    if not key:
        return None
    remembered = world.idempotency.get((caller.account_id, key))
    if remembered is None or remembered[1] <= now:
        return None
    status = world.statuses.get(remembered[0])
    return None if status is None or status.deleted else status


# --- Media ----------------------------------------------------------------------------

# Mastodon detects the type from the bytes, not from what the client says.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff(data: bytes) -> str | None:
    for signature, mime_type in SIGNATURES:
        if data.startswith(signature):
            return mime_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    return None


def media_create(world: World, request: Request, caller: Caller) -> Response:
    """POST /api/v2/media: an image is ready at once (200); GIFs (made gifv) and videos
    are processed after the answer (202, `url` null)."""
    try:
        fields = parse_multipart(request.header("content-type"), request.body)
    except ValueError:
        return error(422, "Validation failed: File can't be blank")  # [inf]
    data = fields.get("file", b"")
    mime_type = sniff(data)
    if mime_type is None:
        return error(422, "Validation failed: File content type is invalid, File is invalid")
    kind = "image" if mime_type.startswith("image/") and mime_type != "image/gif" else "video"
    if mime_type == "image/gif":
        kind = "gifv"
    description = fields.get("description", b"").decode("utf-8", errors="replace")
    with world.lock:
        configuration = world.configuration
        limit = (
            configuration.image_size_limit if kind == "image" else configuration.video_size_limit
        )
        if len(data) > limit:
            return error(
                422,
                f"Validation failed: File file size must be less than {limit // (1024 * 1024)} MB",
            )  # [inf] the wording
        if len(description) > configuration.description_limit:
            return error(
                422,
                "Validation failed: Description is too long (maximum is "
                f"{configuration.description_limit} characters)",
            )
        now = world.now()
        delay = 0.0 if kind == "image" else world.settings.media_processing_seconds
        media = Media(
            id=world.next_id(),
            account_id=caller.account_id,
            kind=kind,
            mime_type=mime_type,
            size=len(data),
            description=description,
            created_at=now,
            ready_at=now + delay,
            outcome="succeeded" if kind == "image" else world.settings.media_processing_outcome,
        )
        world.media[media.id] = media
        return Response(200 if delay == 0 else 202, media_json(media, world))


def media_get(world: World, request: Request, caller: Caller) -> Response:
    """206 while processing, 200 when ready, 422 when processing failed [inf: the wording],
    404 for another account's upload or one already attached."""
    with world.lock:
        media = world.media.get(request.path_params["id"])
        if media is None or media.account_id != caller.account_id or media.status_id:
            return error(404, NOT_FOUND)
        if media.ready_at > world.now():
            return Response(206, media_json(media, world))
        if media.outcome == "failed":
            return error(422, "Validation failed: File could not be processed")
        return Response(200, media_json(media, world))


def media_json(media: Media, world: World) -> dict[str, Any]:
    ready = media.ready_at <= world.now() and media.outcome == "succeeded"
    extension = media.mime_type.rsplit("/", 1)[-1]
    url = f"https://files.{world.domain}/media_attachments/{media.id}/original.{extension}"
    return {
        "id": media.id,
        "type": media.kind,
        "url": url if ready else None,
        "preview_url": url,
        "remote_url": None,
        "text_url": None,
        "meta": {},
        "description": media.description or None,
        "blurhash": "UFBWY:8_0Jxv_3t7t7R**0o#DgR4_3R*D%xt",
    }


# --- Accounts -------------------------------------------------------------------------


def verify_credentials(world: World, request: Request, caller: Caller) -> Response:
    with world.lock:
        account = account_json(world, caller.account_id)
        account["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "note": world.accounts[caller.account_id].note,
            "fields": [],
            "follow_requests_count": 0,
        }
        return Response(200, account)


def account_json(world: World, account_id: str) -> dict[str, Any]:
    account = world.accounts[account_id]
    avatar = f"https://files.{world.domain}/accounts/avatars/{account.id}/original.png"
    return {
        "id": account.id,
        "username": account.username,
        "acct": account.username,
        "display_name": account.display_name,
        "locked": False,
        "bot": False,
        "created_at": iso(account.created_at),
        "note": f"<p>{html.escape(account.note)}</p>" if account.note else "",
        "url": f"https://{world.domain}/@{account.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": len(world.live_statuses_of(account.id)),
        "emojis": [],
        "fields": [],
    }


def iso(timestamp: float) -> str:
    """Mastodon's datetimes: ISO 8601, UTC, milliseconds."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- Request bodies -------------------------------------------------------------------


def request_params(request: Request) -> dict[str, Any]:
    """A JSON body, or a form whose `name[]` fields are lists (Rails' way)."""
    if request.header("content-type").startswith("application/json"):
        body = request.json()
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
        return body
    form = parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {
        name.removesuffix("[]"): values if name.endswith("[]") else values[0]
        for name, values in form.items()
    }


@dataclass
class ListQueryRequest(Request):
    """A request whose repeated query parameters (`id[]=1&id[]=2`) are all kept."""

    query_lists: dict[str, list[str]] = field(default_factory=dict)


def _query_lists(request: Request) -> dict[str, list[str]]:
    return getattr(request, "query_lists", {})
