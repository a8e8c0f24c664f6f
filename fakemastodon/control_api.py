"""The control API under /_fake/: set the scene, inject faults, read what happened.

Reset, statistics, the clock and faults are fakex's own handlers (they touch only
what every fake world has: its lock, clock, stats and fault plan); the rest is the
instance's scene. No authentication: the fake only ever listens for tests.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fakemastodon.state import Account, World
from fakex import control_api as shared
from fakex.control_api import ControlError
from fakex.routing import Route
from fakex.wire import Request, Response

__all__ = ["CONTROL_ROUTES", "ControlError"]

CONTROL_CLIENT_ID = "fakemastodon-control"
DEFAULT_TOKEN_SCOPES = ("read", "write", "profile")
ACCOUNT_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "username": str,
    "display_name": str,
    "followers_count": int,
    "following_count": int,
    "note": str,
    "disabled": bool,
}
CONFIGURATION_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "max_characters": int,
    "max_media_attachments": int,
    "characters_reserved_per_url": int,
    "image_size_limit": int,
    "video_size_limit": int,
    "description_limit": int,
}
SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "media_processing_seconds": (int, float),
    "media_processing_outcome": str,
}
COUNTS = ("replies_count", "reblogs_count", "favourites_count", "quotes_count")


def upsert_account(world: World, request: Request) -> Response:
    body = shared._object(request)
    changes = {name: value for name, value in body.items() if name != "id"}
    shared._check_types(changes, ACCOUNT_FIELD_TYPES)
    with world.lock:
        account_id = str(body.get("id") or world.next_id())
        account = world.accounts.get(account_id)
        if account is None:
            username = changes.get("username") or f"user{account_id[-6:]}"
            account = world.accounts[account_id] = Account(
                id=account_id, username=username, display_name=username, created_at=world.now()
            )
        for name, value in changes.items():
            setattr(account, name, value)
        return Response(200, asdict(account))


def issue_tokens(world: World, request: Request) -> Response:
    """A token as if the account had allowed an app, with the given scopes."""
    scopes = shared._object(request).get("scopes", DEFAULT_TOKEN_SCOPES)
    if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes):
        raise ControlError("scopes must be a list of scope names")
    with world.lock:
        account_id = _existing(world, request.path_params["id"])
        return Response(
            200,
            world.issue_token(
                account_id=account_id, client_id=CONTROL_CLIENT_ID, scopes=tuple(scopes)
            ),
        )


def revoke_tokens(world: World, request: Request) -> Response:
    with world.lock:
        world.revoke_account_tokens(_existing(world, request.path_params["id"]))
    return Response(200, {"revoked": True})


def log_in(world: World, request: Request) -> Response:
    """Choose the account that agrees on the consent page of /oauth/authorize."""
    account_id = str(shared._object(request).get("account_id", ""))
    with world.lock:
        world.logged_in_account_id = _existing(world, account_id)
    return Response(200, {"account_id": account_id})


def update_configuration(world: World, request: Request) -> Response:
    """Change what GET /api/v2/instance reports, and what the instance enforces."""
    body = shared._object(request)
    shared._check_types(body, CONFIGURATION_FIELD_TYPES)
    with world.lock:
        for name, value in body.items():
            setattr(world.configuration, name, value)
        return Response(200, world.configuration.as_json())


def update_settings(world: World, request: Request) -> Response:
    body = shared._object(request)
    shared._check_types(body, SETTING_TYPES)
    if body.get("media_processing_outcome", "succeeded") not in ("succeeded", "failed"):
        raise ControlError("media_processing_outcome must be succeeded or failed")
    with world.lock:
        for name, value in body.items():
            setattr(world.settings, name, value)
        return Response(200, world.settings.as_json())


def rate_limits(world: World, request: Request) -> Response:
    """The throttles, as `{"limits": {"statuses": {"limit": 300, "period_seconds": 10800}}}`."""
    with world.lock:
        return Response(200, _limits(world))


def set_rate_limits(world: World, request: Request) -> Response:
    """`{"limits": {"statuses": {"limit": 1, "period_seconds": 60}}}`"""
    changes = shared._object(request).get("limits") or {}
    with world.lock:
        unknown = set(changes) - set(world.limiter.limits)
        if unknown:
            raise ControlError(f"unknown throttles {sorted(unknown)}")
        for name, change in changes.items():
            world.limiter.set_limit(
                name, limit=int(change["limit"]), period_seconds=change.get("period_seconds")
            )
        return Response(200, _limits(world)["limits"])


def _limits(world: World) -> dict[str, Any]:
    return {"limits": {name: asdict(limit) for name, limit in world.limiter.limits.items()}}


def statuses(world: World, request: Request) -> Response:
    """Every status (optionally of one account), oldest first, with its source text."""
    account_id = request.query.get("account_id")
    include_deleted = request.query.get("include_deleted") == "true"
    with world.lock:
        listed = [
            asdict(status)
            for status in sorted(world.statuses.values(), key=lambda status: int(status.id))
            if (account_id is None or status.account_id == account_id)
            and (include_deleted or not status.deleted)
        ]
    return Response(200, {"statuses": listed})


def set_status_counts(world: World, request: Request) -> Response:
    body = shared._object(request)
    if not set(body) <= set(COUNTS):
        raise ControlError(f"counts must be some of {COUNTS}")
    with world.lock:
        status = world.statuses.get(request.path_params["id"])
        if status is None:
            raise ControlError("unknown status", status=404)
        for name, value in body.items():
            setattr(status, name, int(value))
        return Response(200, asdict(status))


def media(world: World, request: Request) -> Response:
    with world.lock:
        return Response(200, {"media": [asdict(item) for item in world.media.values()]})


def apps(world: World, request: Request) -> Response:
    with world.lock:
        listed = [{**asdict(app), "client_secret": None} for app in world.apps.values()]
    return Response(200, {"apps": listed})


def _existing(world: World, account_id: str) -> str:
    if account_id not in world.accounts:
        raise ControlError(f"unknown account {account_id!r}", status=404)
    return account_id


CONTROL_ROUTES = [
    *shared.SHARED_ROUTES,
    Route("POST", "/_fake/accounts", upsert_account),
    Route("POST", "/_fake/accounts/:id/tokens", issue_tokens),
    Route("POST", "/_fake/accounts/:id/revoke-tokens", revoke_tokens),
    Route("PUT", "/_fake/login", log_in),
    Route("PATCH", "/_fake/configuration", update_configuration),
    Route("PATCH", "/_fake/settings", update_settings),
    Route("GET", "/_fake/rate-limits", rate_limits),
    Route("PUT", "/_fake/rate-limits", set_rate_limits),
    Route("GET", "/_fake/statuses", statuses),
    Route("PUT", "/_fake/statuses/:id/counts", set_status_counts),
    Route("GET", "/_fake/media", media),
    Route("GET", "/_fake/apps", apps),
]
