"""The control API under /_fake/: set the scene, inject faults, read what happened.

Reset, statistics, the clock and faults are fakex's own handlers (they touch only
what every fake world has: its lock, clock, stats and fault plan); the rest is
LinkedIn's scene: members, organizations and their roles, tokens, posts' numbers.
No authentication: the fake only ever listens for tests.
"""

from __future__ import annotations

from dataclasses import asdict
from urllib.parse import unquote

from fakelinkedin.state import Member, Organization, Role, Token, World
from fakex import control_api as shared
from fakex.control_api import ControlError
from fakex.routing import Route
from fakex.wire import Request, Response

__all__ = ["CONTROL_ROUTES", "ControlError"]

DEFAULT_SCOPES = (
    "openid",
    "profile",
    "w_member_social",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
    "r_member_postAnalytics",
)
SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "refresh_tokens": bool,
    "duplicate_window_seconds": int,
    "image_processing_seconds": (int, float),
    "daily_post_limit": int,
    "video_processing_seconds": (int, float),
    "video_part_bytes": int,
    "versions_as_of": str,
}
COUNTS = ("likes", "comments", "shares", "impressions", "clicks", "members_reached")


def create_member(world: World, request: Request) -> Response:
    body = shared._object(request)
    with world.lock:
        member_id = str(body.get("id") or f"m{world.next_id()[-8:]}")
        member = world.members[member_id] = Member(
            id=member_id, name=str(body.get("name", "Member")), picture=str(body.get("picture", ""))
        )
        return Response(200, {**asdict(member), "urn": member.urn})


def create_organization(world: World, request: Request) -> Response:
    """An organization; `admin_id` names a member given `role` (ADMINISTRATOR) there."""
    body = shared._object(request)
    with world.lock:
        organization = Organization(
            id=world.next_id()[-9:],
            name=str(body.get("name", "Organization")),
            vanity_name=str(body.get("vanity_name", "")),
        )
        world.organizations[organization.id] = organization
        admin_id = body.get("admin_id")
        if admin_id is not None:
            world.roles.append(
                Role(
                    member_id=_existing(world.members, str(admin_id)),
                    organization_id=organization.id,
                    role=str(body.get("role", "ADMINISTRATOR")),
                    state=str(body.get("state", "APPROVED")),
                )
            )
        return Response(200, {**asdict(organization), "urn": organization.urn})


def issue_token(world: World, request: Request) -> Response:
    """An access token as if the member had signed in (60 days), and a refresh token when
    the app is a partner."""
    body = shared._object(request)
    scopes = body.get("scopes", DEFAULT_SCOPES)
    if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
        raise ControlError("scopes must be a list of scope names")
    with world.lock:
        member_id = _existing(world.members, request.path_params["id"])
        value, token = world.issue_token(member_id=member_id, scopes=tuple(scopes))
        answer = {"access_token": value, "expires_at": token.expires_at}
        if world.settings.refresh_tokens:
            answer["refresh_token"], _ = world.issue_refresh_token(
                member_id=member_id, scopes=tuple(scopes)
            )
        return Response(200, answer)


def revoke_tokens(world: World, request: Request) -> Response:
    """What the member removing the app does: every token answers 65601."""
    with world.lock:
        member_id = _existing(world.members, request.path_params["id"])
        for token in world.tokens.values():
            if token.member_id == member_id:
                token.revoked = True
    return Response(200, {"revoked": True})


def expire_tokens(world: World, request: Request) -> Response:
    """Every access token of the member as if its 60 days had run out (65602)."""
    with world.lock:
        member_id = _existing(world.members, request.path_params["id"])
        past = world.now() - 1
        for value, token in list(world.tokens.items()):
            if token.member_id == member_id:
                world.tokens[value] = Token(token.member_id, token.scopes, past, token.revoked)
    return Response(200, {"expired": True})


def log_in(world: World, request: Request) -> Response:
    """Choose who signs in on /oauth/v2/authorization, and (optionally) the scopes granted."""
    body = shared._object(request)
    with world.lock:
        member_id = body.get("member_id")
        world.logged_in_member_id = (
            None if member_id is None else _existing(world.members, str(member_id))
        )
        granted = body.get("granted_scopes")
        world.granted_scopes = None if granted is None else tuple(granted)
    return Response(200, {"member_id": world.logged_in_member_id})


def update_settings(world: World, request: Request) -> Response:
    body = shared._object(request)
    shared._check_types(body, SETTING_TYPES)
    as_of = body.get("versions_as_of", "")
    if as_of and not (len(as_of) == 6 and as_of.isdigit() and 1 <= int(as_of[4:]) <= 12):
        raise ControlError(f"versions_as_of must be YYYYMM or empty, not {as_of!r}")
    return shared.settings_apply(world, body)


def posts(world: World, request: Request) -> Response:
    """Every post (optionally of one author), oldest first, as stored (commentary cut)."""
    author = request.query.get("author")
    include_deleted = request.query.get("include_deleted") == "true"
    with world.lock:
        listed = [
            asdict(post)
            for post in sorted(world.posts.values(), key=lambda post: post.created_at)
            if (author is None or post.author == author) and (include_deleted or not post.deleted)
        ]
    return Response(200, {"posts": listed})


def set_counts(world: World, request: Request) -> Response:
    body = shared._object(request)
    if not set(body) <= set(COUNTS):
        raise ControlError(f"counts must be some of {COUNTS}")
    with world.lock:
        post = world.posts.get(unquote(request.path_params["urn"]))
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
    Route("POST", "/_fake/members", create_member),
    Route("POST", "/_fake/organizations", create_organization),
    Route("POST", "/_fake/members/:id/tokens", issue_token),
    Route("POST", "/_fake/members/:id/revoke-tokens", revoke_tokens),
    Route("POST", "/_fake/members/:id/expire-tokens", expire_tokens),
    Route("PUT", "/_fake/login", log_in),
    Route("PATCH", "/_fake/settings", update_settings),
    Route("GET", "/_fake/posts", posts),
    Route("PUT", "/_fake/posts/:urn/counts", set_counts),
]
