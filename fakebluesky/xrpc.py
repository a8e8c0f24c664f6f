"""The XRPC endpoints Kairos uses, answering as a PDS (and its AppView) do.

Facts from /work/shared/reference/networks.md, Bluesky; `[inf]` marks what the fake had
to choose where the sources say nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import regex

from fakebluesky.state import POST_COLLECTION, Blob, Record, World, tid_for
from fakex.wire import Request, Response

MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000
MAX_BLOB_BYTES = 52_428_800
MAX_LANGS = 3
MAX_VIDEO_BYTES = 100_000_000
TID_PATTERN = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}\Z")


@dataclass
class XrpcRequest(Request):
    """A request whose query parameters may repeat (getPosts takes `uris` many times)."""

    query_lists: dict[str, list[str]] = field(default_factory=dict)


def query_lists(target: str) -> dict[str, list[str]]:
    """Every value of each query parameter of a request target, in order."""
    return parse_qs(target.partition("?")[2], keep_blank_values=True)


def xrpc_error(status: int, name: str, message: str) -> Response:
    return Response(status, {"error": name, "message": message})


def invalid(message: str) -> Response:
    return xrpc_error(400, "InvalidRequest", message)


# --- Sessions -------------------------------------------------------------------------


def create_session(world: World, request: Request) -> Response:
    body = request.json() or {}
    identifier, password = str(body.get("identifier", "")), str(body.get("password", ""))
    if not identifier or not password:
        return invalid('Input must have the property "identifier" and "password"')
    with world.lock:
        account = world.account_by(identifier)
        if account is None or account.app_password != password:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        if account.status == "takendown":
            return xrpc_error(401, "AccountTakedown", "Account has been taken down")
        world.stats.sessions_created[account.did] += 1
        return Response(200, _session_body(world, account.did, request))


def refresh_session(world: World, request: Request, did: str) -> Response:
    """The refresh JWT rotates; the one used keeps working for the grace period, each
    time giving a refresh JWT with the same id."""
    with world.lock:
        next_jti = world.session_rotate(bearer_token(request))
        world.stats.sessions_refreshed[did] += 1
        return Response(200, _session_body(world, did, request, refresh_jti=next_jti))


def _session_body(
    world: World, did: str, request: Request, *, refresh_jti: str = ""
) -> dict[str, Any]:
    """The session, with the DID document naming the account's own PDS: the fake itself,
    at the address the client used (as bsky.social names the PDS host behind it)."""
    account = world.accounts[did]
    pds = f"http://{request.header('host')}"
    return {
        **world.session_open(did, refresh_jti=refresh_jti),
        "handle": account.handle,
        "did": did,
        "didDoc": {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "alsoKnownAs": [f"at://{account.handle}"],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": pds,
                }
            ],
        },
        "email": account.email,
        "emailConfirmed": bool(account.email),
        "active": True,
    }


# --- Records --------------------------------------------------------------------------


def create_record(world: World, request: Request, did: str) -> Response:
    body = request.json() or {}
    problem = _repo_problem(world, body, did)
    if problem:
        return problem
    rkey = body.get("rkey")
    if rkey is not None and not TID_PATTERN.match(str(rkey)):
        return invalid(f"Invalid record key: {rkey!r} is not a TID")
    value = body.get("record")
    with world.lock:
        problem = _post_problem(world, value, did)
        if problem:
            return invalid(f"Invalid app.bsky.feed.post record: {problem}")
        rkey = rkey or _fresh_rkey(world)
        uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
        if uri in world.records:
            world.stats.existing_record_refusals[(did, value.get("text", ""))] += 1
            # What the PDS answers today (atproto issues 3718, indigo 873).
            return xrpc_error(500, "InternalServerError", "Internal Server Error")
        record = Record(
            did=did,
            collection=POST_COLLECTION,
            rkey=rkey,
            cid=world.record_cid(value),
            value=value,
            indexed_at=world.now(),
        )
        world.records[uri] = record
        world.stats.posts_created[(did, value.get("text", ""))] += 1
        return Response(
            200,
            {"uri": uri, "cid": record.cid, "commit": world.commit(), "validationStatus": "valid"},
        )


def delete_record(world: World, request: Request, did: str) -> Response:
    """Succeeds whether or not the record is there (networks.md)."""
    body = request.json() or {}
    problem = _repo_problem(world, body, did)
    if problem:
        return problem
    with world.lock:
        world.records.pop(f"at://{did}/{body['collection']}/{body.get('rkey', '')}", None)
        return Response(200, {"commit": world.commit()})


def get_record(world: World, request: Request) -> Response:
    query = request.query
    with world.lock:
        account = world.account_by(query.get("repo", ""))
        if account is None:
            return invalid(f"Could not find repo: {query.get('repo', '')}")
        uri = f"at://{account.did}/{query.get('collection', '')}/{query.get('rkey', '')}"
        record = world.records.get(uri)
        if record is None:
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Response(200, {"uri": uri, "cid": record.cid, "value": record.value})


def upload_blob(world: World, request: Request, did: str) -> Response:
    mime_type = request.header("content-type") or "application/octet-stream"
    if len(request.body) > MAX_BLOB_BYTES:
        # [inf] the status and name of a blob past the PDS's cap.
        return xrpc_error(400, "BlobTooLarge", f"Blob is larger than {MAX_BLOB_BYTES} bytes")
    with world.lock:
        cid = world.blob_cid(request.body)
        world.blobs[cid] = Blob(cid=cid, mime_type=mime_type, size=len(request.body), owner_did=did)
    return Response(200, {"blob": blob_json(world.blobs[cid])})


def blob_json(blob: Blob) -> dict[str, Any]:
    return {
        "$type": "blob",
        "ref": {"$link": blob.cid},
        "mimeType": blob.mime_type,
        "size": blob.size,
    }


# --- Reads (the AppView's, public) ----------------------------------------------------


def resolve_handle(world: World, request: Request) -> Response:
    with world.lock:
        account = world.account_by(request.query.get("handle", ""))
    if account is None or not request.query.get("handle"):
        return invalid("Unable to resolve handle")
    return Response(200, {"did": account.did})


def get_profile(world: World, request: Request) -> Response:
    with world.lock:
        account = world.account_by(request.query.get("actor", ""))
        if account is None:
            return invalid("Profile not found")
        posts = sum(1 for record in world.records.values() if record.did == account.did)
        return Response(
            200,
            {
                "did": account.did,
                "handle": account.handle,
                "displayName": account.display_name,
                "avatar": account.avatar,
                "followersCount": account.followers_count,
                "followsCount": 0,
                "postsCount": posts,
            },
        )


def get_posts(world: World, request: XrpcRequest) -> Response:
    """Posts that are gone, or that the AppView does not show, are left out of the answer."""
    uris = request.query_lists.get("uris", [])
    if len(uris) > 25:
        return invalid("uris must not have more than 25 elements")
    with world.lock:
        return Response(
            200,
            {
                "posts": [
                    post_view(world, world.records[uri])
                    for uri in uris
                    if uri in world.records and not world.records[uri].unlisted
                ]
            },
        )


def post_view(world: World, record: Record) -> dict[str, Any]:
    account = world.accounts[record.did]
    counts = {
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "bookmarkCount": 0,
    }
    return {
        "uri": record.uri,
        "cid": record.cid,
        "author": {"did": account.did, "handle": account.handle},
        "record": record.value,
        **counts,
        **record.metrics,
        "indexedAt": _iso(record.indexed_at),
    }


# --- Checks ---------------------------------------------------------------------------


def _repo_problem(world: World, body: dict[str, Any], did: str) -> Response | None:
    with world.lock:
        account = world.account_by(str(body.get("repo", "")))
    if account is None or account.did != did:
        return invalid("Input/repo must be the DID or handle of the signed-in account")
    if body.get("collection") != POST_COLLECTION:
        # [inf] the fake keeps posts only: the one collection Kairos writes.
        return invalid(f"the fake takes only {POST_COLLECTION} records")
    return None


def _post_problem(world: World, value: Any, did: str) -> str:
    """What the PDS's lexicon validation says of a post record, or ''."""
    if not isinstance(value, dict) or value.get("$type") != POST_COLLECTION:
        return "Record/$type must be app.bsky.feed.post"
    text = value.get("text")
    if not isinstance(text, str):
        return 'Record must have the property "text"'
    if not isinstance(value.get("createdAt"), str):
        return 'Record must have the property "createdAt"'
    if len(regex.findall(r"\X", text)) > MAX_GRAPHEMES:
        return f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes"
    if len(text.encode()) > MAX_TEXT_BYTES:
        return f"Record/text must not be longer than {MAX_TEXT_BYTES} characters"
    if len(value.get("langs", [])) > MAX_LANGS:
        return f"Record/langs must not have more than {MAX_LANGS} elements"
    text_bytes = len(text.encode())
    for number, facet in enumerate(value.get("facets", [])):
        index = facet.get("index", {})
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= text_bytes):
            return f"Record/facets/{number}/index must lie within the text's bytes"
        for feature in facet.get("features", []):
            if feature.get("$type") == "app.bsky.richtext.facet#mention" and not str(
                feature.get("did", "")
            ).startswith("did:"):
                return f"Record/facets/{number}/features/0/did must be a valid did"
    return _embed_problem(world, value.get("embed"), did)


def _embed_problem(world: World, embed: Any, did: str) -> str:
    if embed is None:
        return ""
    if embed.get("$type") == "app.bsky.embed.video":
        return _video_problem(world, embed, did)
    if embed.get("$type") != "app.bsky.embed.images":
        return "Record/embed: the fake takes only app.bsky.embed.images and .video"
    images = embed.get("images", [])
    if len(images) > MAX_IMAGES:
        return f"Record/embed/images must not have more than {MAX_IMAGES} elements"
    for number, image in enumerate(images):
        cid = image.get("image", {}).get("ref", {}).get("$link", "")
        blob = world.blobs.get(cid)
        if blob is None or blob.owner_did != did:
            return f"Record/embed/images/{number}/image: could not find blob {cid}"
        if not blob.mime_type.startswith("image/"):
            return f"Record/embed/images/{number}/image mimeType is not accepted"
        if blob.size > MAX_IMAGE_BYTES:
            return (
                f"Record/embed/images/{number}/image file too large. {blob.size} bytes provided, "
                f"maximum {MAX_IMAGE_BYTES}."
            )
    return ""


def _video_problem(world: World, embed: dict[str, Any], did: str) -> str:
    cid = embed.get("video", {}).get("ref", {}).get("$link", "")
    blob = world.blobs.get(cid)
    if blob is None or blob.owner_did != did:
        return f"Record/embed/video: could not find blob {cid}"
    if blob.mime_type != "video/mp4":
        return "Record/embed/video mimeType is not accepted"
    if blob.size > MAX_VIDEO_BYTES:
        return f"Record/embed/video file too large. {blob.size} bytes provided."
    return ""


def _fresh_rkey(world: World) -> str:
    return tid_for(world.now())


def bearer_token(request: Request) -> str:
    scheme, _, token = request.header("authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _iso(seconds: float) -> str:
    return (
        datetime.fromtimestamp(seconds, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
