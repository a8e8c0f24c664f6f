"""The control API under /_fake/: set the scene, inject faults, read what happened.

The clock, fault, reset and stats calls are fakex's own handlers: they speak to any
world with a lock, a clock offset, a FaultPlan and stats. No authentication: the fake
only ever listens for tests, the chaos run and benchmarks.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any, get_args

from fakebluesky.state import Account, AccountStatus, Limit, World
from fakex.control_api import (
    ControlError,
    _object,
    add_fault_rule,
    advance_clock,
    clear_faults,
    faults,
    reset,
    set_clock,
    set_fault_rates,
    stats,
)
from fakex.routing import Route
from fakex.wire import Request, Response

ACCOUNT_FIELDS: dict[str, type] = {
    "handle": str,
    "app_password": str,
    "email": str,
    "display_name": str,
    "avatar": str,
    "followers_count": int,
    "status": str,
}
METRIC_NAMES = ("likeCount", "repostCount", "replyCount", "quoteCount", "bookmarkCount")


def upsert_account(world: World, request: Request) -> Response:
    """Create an account (a DID and an app password are made up when not given), or
    update the given fields of an existing one."""
    body = _object(request)
    changes = {name: value for name, value in body.items() if name != "did"}
    for name, value in changes.items():
        if not isinstance(value, ACCOUNT_FIELDS.get(name, type(None))):
            raise ControlError(f"unknown field or wrong type: {name}={value!r}")
    if changes.get("status", "active") not in get_args(AccountStatus):
        raise ControlError(f"status must be one of {get_args(AccountStatus)}")
    with world.lock:
        did = str(body.get("did") or f"did:plc:{secrets.token_hex(12)}")
        account = world.accounts.get(did)
        if account is None:
            handle = changes.get("handle") or f"user{len(world.accounts) + 1}.bsky.social"
            account = world.accounts[did] = Account(
                did=did, handle=handle, app_password=_app_password()
            )
        for name, value in changes.items():
            setattr(account, name, value)
        return Response(200, asdict(account))


def open_session(world: World, request: Request) -> Response:
    """A session as createSession would give it, without spending that method's limits."""
    with world.lock:
        did = _existing_did(world, request.path_params["did"])
        return Response(200, {**world.session_open(did), "did": did})


def end_sessions(world: World, request: Request) -> Response:
    """What revoking the app password in Bluesky's settings does."""
    with world.lock:
        world.sessions_end(_existing_did(world, request.path_params["did"]))
    return Response(200, {"revoked": True})


def rate_limits(world: World, request: Request) -> Response:
    with world.lock:
        return Response(200, _limits(world))


def set_rate_limits(world: World, request: Request) -> Response:
    """`{"limits": {window: {"limit": n, "period_seconds": s}}}` overrides single windows."""
    changes = _object(request).get("limits") or {}
    with world.lock:
        unknown = set(changes) - set(world.limiter.limits)
        if unknown:
            raise ControlError(f"unknown windows {sorted(unknown)}")
        for name, change in changes.items():
            current = world.limiter.limits[name]
            world.limiter.limits[name] = Limit(
                int(change["limit"]), int(change.get("period_seconds", current.period_seconds))
            )
        return Response(200, _limits(world))


def posts(world: World, request: Request) -> Response:
    """Every post record (optionally of one DID), oldest first."""
    did = request.query.get("did")
    with world.lock:
        listed = [
            {
                "uri": record.uri,
                "cid": record.cid,
                "did": record.did,
                "rkey": record.rkey,
                "value": record.value,
                "indexed_at": record.indexed_at,
                "metrics": record.metrics,
            }
            for record in world.records.values()
            if did is None or record.did == did
        ]
    return Response(200, {"posts": listed})


def set_post_metrics(world: World, request: Request) -> Response:
    """`{"uri": ..., "likeCount": n, ...}`: what the AppView then counts for the post."""
    body = _object(request)
    values = {name: value for name, value in body.items() if name != "uri"}
    if not set(values) <= set(METRIC_NAMES):
        raise ControlError(f"metrics must be some of {METRIC_NAMES}")
    with world.lock:
        record = world.records.get(str(body.get("uri", "")))
        if record is None:
            raise ControlError("unknown post", status=404)
        record.metrics.update(values)
        return Response(200, {"uri": record.uri, "metrics": record.metrics})


def set_post_unlisted(world: World, request: Request) -> Response:
    """`{"uri": ..., "unlisted": true}`: the AppView stops (or starts) showing the post,
    as before it is indexed; the PDS still has the record."""
    body = _object(request)
    with world.lock:
        record = world.records.get(str(body.get("uri", "")))
        if record is None:
            raise ControlError("unknown post", status=404)
        record.unlisted = bool(body.get("unlisted", True))
        return Response(200, {"uri": record.uri, "unlisted": record.unlisted})


def set_video(world: World, request: Request) -> Response:
    """`{"processing_seconds": s, "outcome": "succeeded" | "failed"}` for later uploads."""
    body = _object(request)
    if body.get("outcome", "succeeded") not in ("succeeded", "failed"):
        raise ControlError("outcome must be succeeded or failed")
    with world.lock:
        world.video.processing_seconds = float(
            body.get("processing_seconds", world.video.processing_seconds)
        )
        world.video.outcome = body.get("outcome", world.video.outcome)
        return Response(200, asdict(world.video))


def blobs(world: World, request: Request) -> Response:
    with world.lock:
        return Response(200, {"blobs": [asdict(blob) for blob in world.blobs.values()]})


CONTROL_ROUTES = [
    Route("POST", "/_fake/reset", reset),
    Route("GET", "/_fake/stats", stats),
    Route("POST", "/_fake/accounts", upsert_account),
    Route("POST", "/_fake/accounts/:did/sessions", open_session),
    Route("POST", "/_fake/accounts/:did/end-sessions", end_sessions),
    Route("PUT", "/_fake/clock", set_clock),
    Route("POST", "/_fake/clock/advance", advance_clock),
    Route("GET", "/_fake/rate-limits", rate_limits),
    Route("PUT", "/_fake/rate-limits", set_rate_limits),
    Route("GET", "/_fake/faults", faults),
    Route("POST", "/_fake/faults", add_fault_rule),
    Route("PUT", "/_fake/fault-rates", set_fault_rates),
    Route("DELETE", "/_fake/faults", clear_faults),
    Route("GET", "/_fake/posts", posts),
    Route("PUT", "/_fake/post-metrics", set_post_metrics),
    Route("PUT", "/_fake/post-unlisted", set_post_unlisted),
    Route("GET", "/_fake/blobs", blobs),
    Route("PATCH", "/_fake/video", set_video),
]


def _existing_did(world: World, did: str) -> str:
    if did not in world.accounts:
        raise ControlError(f"unknown account {did!r}", status=404)
    return did


def _app_password() -> str:
    """Bluesky's shape: four groups of four, xxxx-xxxx-xxxx-xxxx."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def _limits(world: World) -> dict[str, Any]:
    return {"limits": {name: asdict(limit) for name, limit in world.limiter.limits.items()}}
