"""The Graph API's endpoints for Pages and Instagram accounts, as the fake answers them.

Each handler takes the world, the request's parameters (query, form or JSON body
merged, as the Graph API reads them) and the caller's token, and answers a Response.
A media URL is fetched before the world's lock is taken (`fetch_media`), as Meta
fetches it at request time.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fakemeta import errors
from fakemeta.state import (
    Container,
    InstagramUser,
    Page,
    Photo,
    Post,
    Token,
    UploadSession,
    World,
)
from fakex.wire import Response

PUBLISH_PAGE = "pages_manage_posts"
PUBLISH_INSTAGRAM = "instagram_content_publish"
READ_INSIGHTS = "read_insights"
INSTAGRAM_INSIGHTS = "instagram_manage_insights"
FETCH_TIMEOUT = 10
# Metrics Meta has removed: asking for one is "invalid metric" (reference/networks.md).
GONE_PAGE_METRICS = frozenset(
    {"post_impressions", "post_impressions_unique", "post_engaged_users", "post_video_views"}
)
GONE_INSTAGRAM_METRICS = frozenset({"impressions", "plays", "video_views"})
CAPTION_LIMIT = 2200
CAROUSEL_CHILDREN = (2, 10)


@dataclass(frozen=True)
class Fetched:
    url: str
    size: int
    content_type: str
    problem: str = ""


def fetch_media(url: str) -> Fetched:
    """Download `url` as Meta does when given a media URL; `problem` says why it could not."""
    if not url.startswith(("http://", "https://")):
        return Fetched(url, 0, "", problem="not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:
            data = answer.read()
            return Fetched(url, len(data), answer.headers.get("content-type", ""))
    except (urllib.error.URLError, OSError, ValueError) as problem:
        return Fetched(url, 0, "", problem=type(problem).__name__)


# --- Pages -----------------------------------------------------------------------------


def page_feed_create(world: World, page: Page, params: dict[str, Any]) -> Response:
    """POST /{page-id}/feed: message, link, attached_media (unpublished photos)."""
    message = str(params.get("message", ""))
    link = str(params.get("link", ""))
    attached = _attached_media(params.get("attached_media"))
    if attached is None:
        return errors.invalid_parameter('attached_media must be a list of {"media_fbid": id}')
    if not (message or link or attached):
        return errors.invalid_parameter("The status you are trying to publish is empty.")
    photos = []
    for media_fbid in attached:
        photo = world.photos.get(media_fbid)
        if photo is None or photo.page_id != page.id:
            return errors.not_found(media_fbid, "POST")
        if photo.post_id is not None:
            return errors.graph_error(
                400, "These photos were already posted.", code=100, subcode=1366051
            )
        photos.append(photo)
    now = world.now()
    if message and not attached and _recent_same_message(world, page.id, message, now):
        world.stats.duplicate_refusals[(page.id, message)] += 1
        return errors.duplicate()
    kind = "album" if len(photos) > 1 else "photo" if photos else "link" if link else "status"
    post = _post_create(
        world,
        owner_id=page.id,
        network="facebook",
        message=message,
        kind=kind,
        link=link,
        media_ids=tuple(photo.id for photo in photos),
        media_urls=tuple(photo.url for photo in photos),
    )
    for photo in photos:
        photo.post_id = post.id
    return Response(200, {"id": post.id})


def page_photo_create(
    world: World, page: Page, params: dict[str, Any], fetched: Fetched | None
) -> Response:
    """POST /{page-id}/photos url, caption, published (default true)."""
    if fetched is None:
        return errors.invalid_parameter("Requires upload file", subcode=None)
    if fetched.problem:
        return errors.graph_error(
            400, f"(#100) url should represent a valid URL ({fetched.problem})", code=100
        )
    world.stats.media_fetches[fetched.url] += 1
    photo = Photo(
        id=world.next_id(), page_id=page.id, url=fetched.url, size=fetched.size, published=False
    )
    world.photos[photo.id] = photo
    if str(params.get("published", "true")).lower() == "false":
        return Response(200, {"id": photo.id})
    photo.published = True
    post = _post_create(
        world,
        owner_id=page.id,
        network="facebook",
        message=str(params.get("caption", "")),
        kind="photo",
        media_ids=(photo.id,),
        media_urls=(photo.url,),
    )
    photo.post_id = post.id
    return Response(200, {"id": photo.id, "post_id": post.id})


def page_video_create(
    world: World, page: Page, params: dict[str, Any], fetched: Fetched | None
) -> Response:
    """POST /{page-id}/videos file_url, description: the video id (the post shows it).
    With `upload_phase`, a step of the resumable upload instead."""
    phase = params.get("upload_phase")
    if phase is not None:
        return _video_upload_step(world, page, str(phase), params)
    if fetched is None or fetched.problem:
        return _upload_problem(1363030)
    world.stats.media_fetches[fetched.url] += 1
    video_id = world.next_id()
    _video_post(world, page, params, video_id, urls=(fetched.url,))
    return Response(200, {"id": video_id})


def _video_post(
    world: World, page: Page, params: dict[str, Any], video_id: str, *, urls: tuple[str, ...]
) -> None:
    """The Page's post of a video, under the video's id, its `description` the message."""
    _post_create(
        world,
        owner_id=page.id,
        network="facebook",
        message=str(params.get("description", "")),
        kind="video",
        media_ids=(video_id,),
        media_urls=urls,
        post_id=video_id,
    )


def _video_upload_step(world: World, page: Page, phase: str, params: dict[str, Any]) -> Response:
    """The resumable upload: `start` with `file_size` opens a session and names the first
    chunk's offsets; each `transfer` sends `video_file_chunk` from `start_offset` and is
    answered the next chunk's (start == end: all received); `finish` makes the post.
    Offsets are strings, as Meta sends them."""
    if phase == "start":
        size = _number(params.get("file_size"), default=0)
        if size <= 0 or size != int(size):
            return errors.graph_error(400, "(#100) file_size must be a positive integer", code=100)
        session = UploadSession(
            id=world.next_id(), video_id=world.next_id(), page_id=page.id, file_size=int(size)
        )
        world.upload_sessions[session.id] = session
        return Response(
            200,
            {
                "video_id": session.video_id,
                "upload_session_id": session.id,
                **_chunk_offsets(world, session),
            },
        )
    session = world.upload_sessions.get(str(params.get("upload_session_id", "")))
    if session is None or session.page_id != page.id:
        return errors.graph_error(
            400, "(#100) Invalid upload_session_id", code=100, subcode=1363020
        )
    if phase == "transfer":
        chunk = params.get("video_file_chunk")
        offsets = _chunk_offsets(world, session)
        if str(params.get("start_offset")) != offsets["start_offset"]:
            # [inf] the subcode Meta gives a chunk sent from the wrong place.
            return errors.graph_error(
                400, "The start offset of the chunk is wrong.", code=6001, subcode=1363037
            )
        expected = int(offsets["end_offset"]) - session.received
        if not isinstance(chunk, bytes) or len(chunk) != expected:
            return _upload_problem(1363030)
        session.received += len(chunk)
        world.stats.video_chunks_received += 1
        return Response(200, _chunk_offsets(world, session))
    if phase == "finish":
        if session.received != session.file_size:
            return _upload_problem(1363019)
        if not session.finished:
            session.finished = True
            _video_post(world, page, params, session.video_id, urls=())
        return Response(200, {"success": True})
    return errors.graph_error(400, f"(#100) Invalid upload_phase {phase!r}", code=100)


def _upload_problem(subcode: int) -> Response:
    return errors.graph_error(
        400,
        "There was a problem uploading your video file. Please try again.",
        code=6000,
        subcode=subcode,
    )


def _chunk_offsets(world: World, session: UploadSession) -> dict[str, str]:
    end = min(session.received + world.settings.video_chunk_bytes, session.file_size)
    return {"start_offset": str(session.received), "end_offset": str(end)}


def page_posts(world: World, page: Page, params: dict[str, Any]) -> Response:
    """GET /{page-id}/posts?since&until&limit: the Page's own posts, newest first."""
    since = _number(params.get("since"), default=0)
    until = _number(params.get("until"), default=float("inf"))
    limit = int(params.get("limit", 25))
    listed = [post for post in world.posts_of(page.id) if since <= post.created_time <= until][
        :limit
    ]
    return Response(200, {"data": [_post_json(post) for post in listed]})


def post_insights(world: World, post: Post, params: dict[str, Any]) -> Response:
    names = [name for name in str(params.get("metric", "")).split(",") if name]
    gone = GONE_PAGE_METRICS if post.network == "facebook" else GONE_INSTAGRAM_METRICS
    values = _insight_values(post)
    for name in names:
        if name in gone or name not in values:
            return errors.invalid_parameter("The value must be a valid insights metric")
    return Response(
        200,
        {
            "data": [
                {
                    "name": name,
                    "period": "lifetime",
                    "values": [{"value": values[name]}],
                    "id": f"{post.id}/insights/{name}/lifetime",
                }
                for name in names
            ]
        },
    )


def _insight_values(post: Post) -> dict[str, Any]:
    if post.network == "facebook":
        return {
            "post_media_view": post.views,
            "post_total_media_view_unique": post.reach,
            "post_reactions_by_type_total": {"like": post.likes} if post.likes else {},
            "post_clicks": 0,
            "post_clicks_by_type": {},
        }
    return {
        "views": post.views,
        "reach": post.reach,
        "likes": post.likes,
        "comments": post.comments,
        "shares": post.shares,
        "saved": post.saved,
        "total_interactions": post.likes + post.comments + post.shares + post.saved,
    }


def _post_json(post: Post) -> dict[str, Any]:
    if post.network == "facebook":
        return {
            "id": post.id,
            "message": post.message,
            "created_time": _graph_time(post.created_time),
            "permalink_url": f"https://www.facebook.com/{post.id}",
        }
    return {
        "id": post.id,
        "caption": post.message,
        "media_type": post.kind,
        "timestamp": _graph_time(post.created_time),
        "permalink": f"https://www.instagram.com/p/{post.id}/",
    }


# --- Instagram -----------------------------------------------------------------------------


def container_create(
    world: World, account: InstagramUser, params: dict[str, Any], fetched: Fetched | None
) -> Response:
    """POST /{ig-user-id}/media: an image, a reel, a carousel child, or a carousel."""
    caption = str(params.get("caption", ""))
    if len(caption) > CAPTION_LIMIT:
        return errors.graph_error(
            400, "The caption is too long.", code=100, subcode=2207010, kind="OAuthException"
        )
    media_type = str(params.get("media_type", "IMAGE")).upper()
    now = world.now()
    children: tuple[str, ...] = ()
    url = ""
    if media_type == "CAROUSEL":
        children = tuple(child for child in str(params.get("children", "")).split(",") if child)
        low, high = CAROUSEL_CHILDREN
        known = all(
            child in world.containers and world.containers[child].is_carousel_item
            for child in children
        )
        if not low <= len(children) <= high or not known:
            return errors.graph_error(400, "The carousel is invalid.", code=100, subcode=2207028)
        ready_at = max(world.containers[child].ready_at for child in children)
    else:
        if media_type not in ("IMAGE", "VIDEO", "REELS"):
            return errors.invalid_parameter(f"media_type {media_type} is not supported")
        if fetched is None or fetched.problem:
            return errors.graph_error(
                400,
                "Only photo or video can be accepted as media type.",
                code=9004,
                subcode=2207052,
                user_title="Media download has failed. The media URI doesn't meet our "
                "requirements.",
            )
        world.stats.media_fetches[fetched.url] += 1
        url = fetched.url
        video = media_type in ("VIDEO", "REELS")
        ready_at = now + (world.settings.video_processing_seconds if video else 0)
    container = Container(
        id=world.next_id(),
        ig_user_id=account.id,
        media_type=media_type,
        caption=caption,
        media_url=url,
        created_at=now,
        ready_at=ready_at,
        is_carousel_item=str(params.get("is_carousel_item", "")).lower() == "true",
        children=children,
    )
    world.containers[container.id] = container
    world.stats.containers_created += 1
    return Response(200, {"id": container.id})


def container_status(world: World, container: Container) -> dict[str, Any]:
    status = container.status_at(world.now())
    return {"id": container.id, "status_code": status, "status": _status_words(status)}


def _status_words(status: str) -> str:
    return {
        "IN_PROGRESS": "In Progress",
        "FINISHED": "Finished",
        "PUBLISHED": "Published",
        "EXPIRED": "Expired",
        "ERROR": "Error: 2207001",
    }[status]


def media_publish(world: World, account: InstagramUser, params: dict[str, Any]) -> Response:
    """POST /{ig-user-id}/media_publish creation_id: the Instagram media id."""
    container = world.containers.get(str(params.get("creation_id", "")))
    if container is None or container.ig_user_id != account.id or container.is_carousel_item:
        return errors.not_found(str(params.get("creation_id", "")), "POST")
    status = container.status_at(world.now())
    if status == "PUBLISHED":
        return errors.invalid_parameter("The media has already been published", subcode=2207008)
    if status != "FINISHED":
        return errors.graph_error(
            400, "Media ID is not available", code=9007, subcode=2207027, transient=True
        )
    if world.quota_usage(account.id) >= world.settings.quota_total:
        return errors.graph_error(
            400,
            "Application request limit reached",
            code=9,
            subcode=2207042,
            user_title="You have reached the maximum number of posts allowed in 24 hours.",
        )
    children = [world.containers[child] for child in container.children]
    kind = {"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(
        container.media_type, container.media_type
    )
    post = _post_create(
        world,
        owner_id=account.id,
        network="instagram",
        message=container.caption,
        kind=kind,
        media_urls=tuple(child.media_url for child in children) or (container.media_url,),
    )
    container.status_code = "PUBLISHED"
    container.published_media_id = post.id
    world.publishes.append((account.id, world.now()))
    return Response(200, {"id": post.id})


def publishing_limit(world: World, account: InstagramUser) -> Response:
    return Response(
        200,
        {
            "data": [
                {
                    "quota_usage": world.quota_usage(account.id),
                    "config": {"quota_total": world.settings.quota_total, "quota_duration": 86400},
                }
            ]
        },
    )


def instagram_media_list(world: World, account: InstagramUser, params: dict[str, Any]) -> Response:
    limit = int(params.get("limit", 25))
    listed = world.posts_of(account.id)[:limit]
    return Response(200, {"data": [_post_json(post) for post in listed]})


# --- Objects -----------------------------------------------------------------------------


def object_fields(world: World, object_id: str, token: Token) -> dict[str, Any] | None:
    """GET /{id}: what the fake shows of a Page, an Instagram account, a post or a container."""
    if object_id in world.pages:
        page = world.pages[object_id]
        shown: dict[str, Any] = {"id": page.id, "name": page.name}
        if page.instagram_id:
            shown["instagram_business_account"] = {"id": page.instagram_id}
        return shown
    if object_id in world.instagram_users:
        account = world.instagram_users[object_id]
        return {
            "id": account.id,
            "user_id": account.id,
            "username": account.username,
            "name": account.name,
            "followers_count": account.followers_count,
            "profile_picture_url": account.profile_picture_url,
        }
    if object_id in world.users:
        return {"id": object_id, "name": world.users[object_id].name}
    if object_id in world.containers:
        return container_status(world, world.containers[object_id])
    post = world.posts.get(object_id)
    if post is not None and not post.deleted:
        shown = _post_json(post)
        if post.network == "instagram":
            shown.update(like_count=post.likes, comments_count=post.comments)
        else:
            shown.update(
                shares={"count": post.shares},
                comments={"data": [], "summary": {"total_count": post.comments}},
                reactions={"data": [], "summary": {"total_count": post.likes}},
            )
        return shown
    return None


def token_answer(value: str, token: Token, now: float) -> dict[str, Any]:
    answer: dict[str, Any] = {"access_token": value, "token_type": "bearer"}
    if token.expires_at is not None:
        answer["expires_in"] = int(token.expires_at - now)
    return answer


# --- Helpers -----------------------------------------------------------------------------


def _post_create(
    world: World,
    *,
    owner_id: str,
    network: str,
    message: str,
    kind: str,
    link: str = "",
    media_ids: tuple[str, ...] = (),
    media_urls: tuple[str, ...] = (),
    post_id: str | None = None,
) -> Post:
    if post_id is None:
        post_id = world.next_id()
        if network == "facebook":
            post_id = f"{owner_id}_{post_id}"
    post = Post(
        id=post_id,
        owner_id=owner_id,
        network=network,  # type: ignore[arg-type]
        message=message,
        created_time=world.now(),
        kind=kind,
        link=link,
        media_ids=media_ids,
        media_urls=media_urls,
    )
    world.posts[post.id] = post
    world.stats.posts_created[(owner_id, message)] += 1
    return post


def _recent_same_message(world: World, page_id: str, message: str, now: float) -> bool:
    window = world.settings.duplicate_window_seconds
    return any(
        post.message == message and now - post.created_time < window
        for post in world.posts_of(page_id)
    )


def _attached_media(value: Any) -> list[str] | None:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list):
        return None
    ids = []
    for item in value:
        if not isinstance(item, dict) or "media_fbid" not in item:
            return None
        ids.append(str(item["media_fbid"]))
    return ids


def _number(value: Any, *, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _graph_time(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
