"""The control API under /_fake/: set the scene, inject faults, read what happened.

Reset, statistics, the clock and faults are fakex's own handlers (they touch only
what every fake world has: its lock, clock, stats and fault plan); the rest is the
Graph API's scene: people, their Pages, the Instagram accounts linked to them.
No authentication: the fake only ever listens for tests.
"""

from __future__ import annotations

from dataclasses import asdict

from fakemeta.state import (
    LONG_TOKEN_SECONDS,
    InstagramUser,
    Page,
    User,
    World,
)
from fakex import control_api as shared
from fakex.control_api import ControlError
from fakex.routing import Route
from fakex.wire import Request, Response

__all__ = ["CONTROL_ROUTES", "ControlError"]

DEFAULT_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "publish_video",
    "read_insights",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
)
SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "video_processing_seconds": (int, float),
    "quota_total": int,
    "duplicate_window_seconds": int,
    "object_calls_per_hour": int,
    "app_calls_per_hour": int,
    "video_chunk_bytes": int,
}
COUNTS = ("likes", "comments", "shares", "views", "reach", "saved")


def create_user(world: World, request: Request) -> Response:
    body = shared._object(request)
    with world.lock:
        user_id = str(body.get("id") or world.next_id())
        user = world.users[user_id] = User(id=user_id, name=str(body.get("name", "Person")))
        return Response(200, asdict(user))


def create_page(world: World, request: Request) -> Response:
    """A Page the person manages; `instagram_username` links an Instagram professional account."""
    body = shared._object(request)
    with world.lock:
        user_id = _existing(world.users, str(body.get("user_id", "")))
        page = Page(id=world.next_id(), name=str(body.get("name", "Page")), user_id=user_id)
        username = body.get("instagram_username")
        if username:
            account = InstagramUser(
                id=world.next_id(),
                username=str(username),
                name=str(body.get("instagram_name", username)),
                page_id=page.id,
                followers_count=int(body.get("followers_count", 0)),
            )
            world.instagram_users[account.id] = account
            page.instagram_id = account.id
        world.pages[page.id] = page
        return Response(200, asdict(page))


def issue_token(world: World, request: Request) -> Response:
    """A token as if the person had signed in: `page_id` gives that Page's token (never
    expiring), else a long-lived user token."""
    body = shared._object(request)
    scopes = body.get("scopes", DEFAULT_SCOPES)
    if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
        raise ControlError("scopes must be a list of permission names")
    with world.lock:
        user_id = _existing(world.users, request.path_params["id"])
        page_id = body.get("page_id")
        if page_id is not None:
            _existing(world.pages, str(page_id))
        value, token = world.issue_token(
            kind="page" if page_id else "user",
            user_id=user_id,
            scopes=tuple(scopes),
            lifetime=None if page_id else LONG_TOKEN_SECONDS,
            page_id=str(page_id) if page_id else None,
        )
        return Response(200, {"access_token": value, "expires_at": token.expires_at})


def revoke_tokens(world: World, request: Request) -> Response:
    with world.lock:
        world.revoke_user_tokens(_existing(world.users, request.path_params["id"]))
    return Response(200, {"revoked": True})


def expire_tokens(world: World, request: Request) -> Response:
    with world.lock:
        world.expire_user_tokens(_existing(world.users, request.path_params["id"]))
    return Response(200, {"expired": True})


def log_in(world: World, request: Request) -> Response:
    """Choose who signs in on /dialog/oauth, and (optionally) which permissions they grant."""
    body = shared._object(request)
    with world.lock:
        world.logged_in_user_id = _existing(world.users, str(body.get("user_id", "")))
        granted = body.get("granted_scopes")
        world.granted_scopes = None if granted is None else tuple(granted)
    return Response(200, {"user_id": world.logged_in_user_id})


def update_settings(world: World, request: Request) -> Response:
    body = shared._object(request)
    shared._check_types(body, SETTING_TYPES)
    with world.lock:
        for name, value in body.items():
            setattr(world.settings, name, value)
        return Response(200, world.settings.as_json())


def posts(world: World, request: Request) -> Response:
    """Every Page post and Instagram media (optionally of one owner), oldest first."""
    owner_id = request.query.get("owner_id")
    include_deleted = request.query.get("include_deleted") == "true"
    with world.lock:
        listed = [
            asdict(post)
            for post in sorted(world.posts.values(), key=lambda post: post.created_time)
            if (owner_id is None or post.owner_id == owner_id)
            and (include_deleted or not post.deleted)
        ]
    return Response(200, {"posts": listed})


def containers(world: World, request: Request) -> Response:
    with world.lock:
        now = world.now()
        listed = [
            {**asdict(container), "status_code": container.status_at(now)}
            for container in world.containers.values()
        ]
    return Response(200, {"containers": listed})


def set_counts(world: World, request: Request) -> Response:
    body = shared._object(request)
    if not set(body) <= set(COUNTS):
        raise ControlError(f"counts must be some of {COUNTS}")
    with world.lock:
        post = world.posts.get(request.path_params["id"])
        if post is None:
            raise ControlError("unknown post", status=404)
        for name, value in body.items():
            setattr(post, name, int(value))
        return Response(200, asdict(post))


def _existing(table: dict, key: str) -> str:
    if key not in table:
        raise ControlError(f"unknown id {key!r}", status=404)
    return key


CONTROL_ROUTES = [
    *shared.SHARED_ROUTES,
    Route("POST", "/_fake/users", create_user),
    Route("POST", "/_fake/pages", create_page),
    Route("POST", "/_fake/users/:id/tokens", issue_token),
    Route("POST", "/_fake/users/:id/revoke-tokens", revoke_tokens),
    Route("POST", "/_fake/users/:id/expire-tokens", expire_tokens),
    Route("PUT", "/_fake/login", log_in),
    Route("PATCH", "/_fake/settings", update_settings),
    Route("GET", "/_fake/posts", posts),
    Route("GET", "/_fake/containers", containers),
    Route("PUT", "/_fake/posts/:id/counts", set_counts),
]
