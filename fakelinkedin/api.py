"""LinkedIn's REST endpoints (/rest/…) as the fake answers them: posts, images, videos
(in parts, each answered with an ETag, finalized, then processed), social actions, share
statistics and a member's post analytics. Each handler runs holding the world's lock and takes the
caller (the member the token belongs to, and the token's scopes).

The "little" text format of `commentary`: the reserved characters `\\ | { } @ [ ] ( ) < >
# * _ ~` must be backslash-escaped; LinkedIn still answers 201 for text with an
unescaped one, but keeps the commentary only up to it. A hashtag (`#word`) and a
mention (`@[Name](urn:li:…)`) are the two unescaped forms it understands.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from fakelinkedin import errors
from fakelinkedin.state import Image, Post, Token, Video, VideoPart, World
from fakex.wire import Response

COMMENTARY_LIMIT = 3000
RESERVED = frozenset("\\|{}@[]()<>#*_~")
HASHTAG = re.compile(r"#\w")
MENTION = re.compile(r"@\[[^\]\\]*\]\(urn:li:(?:person|organization):[^)\s]+\)")
MULTI_IMAGE = (2, 20)
LISTING_MAX = 100
UPLOAD_URL_SECONDS = 86_400
MEMBER_POST = "w_member_social"
ORGANIZATION_POST = "w_organization_social"
ORGANIZATION_READ = "r_organization_social"
ORGANIZATION_ADMIN = "rw_organization_admin"
MEMBER_READ = "r_member_social"
MEMBER_ANALYTICS = "r_member_postAnalytics"
# The counts memberCreatorPostAnalytics gives for a member's post, by queryType, and the
# fake's number behind each.
MEMBER_METRICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "members_reached",
    "RESHARE": "shares",
    "REACTION": "likes",
    "COMMENT": "comments",
}
ANALYTICS_ENTITY = re.compile(r"^\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)$")


@dataclass(frozen=True)
class Caller:
    member_id: str
    token: Token

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.member_id}"

    def has(self, scope: str) -> bool:
        return scope in self.token.scopes


def little_accepted(text: str) -> str:
    """What LinkedIn keeps of `text`: everything before the first unescaped reserved
    character that starts neither a hashtag nor a mention."""
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in RESERVED:
            index += 2
            continue
        if char == "#" and HASHTAG.match(text, index):
            index += 1
            continue
        if char == "@":
            mention = MENTION.match(text, index)
            if mention:
                index = mention.end()
                continue
        if char in RESERVED:
            return text[:index]
        index += 1
    return text


def may_write_as(world: World, caller: Caller, author: str) -> Response | None:
    """A refusal when the caller may not post (or delete) as `author`."""
    if author == caller.urn:
        return (
            None
            if caller.has(MEMBER_POST)
            else errors.access_denied("partnerApiPostsExternal.CREATE.20240101")
        )
    if author not in world.author_urns(caller.member_id) or not caller.has(ORGANIZATION_POST):
        return errors.access_denied("partnerApiPostsExternal.CREATE.20240101")
    return None


def post_create(world: World, caller: Caller, body: Any) -> Response:
    """POST /rest/posts: 201, no body, the post's URN in `x-restli-id`."""
    if not isinstance(body, dict):
        return errors.illegal_argument("Request body could not be converted to data map")
    for name in ("author", "lifecycleState", "distribution", "visibility"):
        if name not in body:
            return errors.missing_field(f"/{name}")
    author = str(body["author"])
    refusal = may_write_as(world, caller, author)
    if refusal is not None:
        return refusal
    sent = str(body.get("commentary", ""))
    if len(sent) > COMMENTARY_LIMIT:
        return errors.illegal_argument(
            f"/commentary :: ShareCommentary text length ({len(sent)} characters) exceeded the "
            f"maximum allowed ({COMMENTARY_LIMIT} characters)"
        )
    content = body.get("content") or {}
    refusal = _content_refusal(world, author, content)
    if refusal is not None:
        return refusal
    now = world.now()
    kept = little_accepted(sent)
    earlier = _recent_same(world, author, kept, now)
    if earlier is not None:
        world.stats.duplicate_refusals[(author, sent)] += 1
        return errors.duplicate(earlier.urn)
    if world.posts_today(author) >= world.settings.daily_post_limit:
        return errors.throttled()
    urn = f"urn:li:share:{world.next_post_id()}"
    world.posts[urn] = Post(
        urn=urn,
        author=author,
        commentary=kept,
        created_at=now,
        sent_commentary=sent,
        content=content,
    )
    world.stats.posts_created[(author, sent)] += 1
    if kept != sent:
        world.stats.truncated_posts += 1
    return Response(201, None, headers={"x-restli-id": urn, "x-linkedin-id": urn})


def _content_refusal(world: World, author: str, content: Any) -> Response | None:
    if not isinstance(content, dict):
        return errors.illegal_argument("/content :: not a record")
    if "media" in content:
        media_id = str((content["media"] or {}).get("id", ""))
        return _media_refusal(world, author, media_id)
    if "multiImage" in content:
        images = (content["multiImage"] or {}).get("images") or []
        low, high = MULTI_IMAGE
        if not low <= len(images) <= high:
            return errors.illegal_argument(
                f"/content/multiImage/images :: a multi-image post has {low} to {high} images"
            )
        for image in images:
            refusal = _media_refusal(world, author, str(image.get("id", "")))
            if refusal is not None:
                return refusal
    return None


def _media_refusal(world: World, author: str, urn: str) -> Response | None:
    """A refusal when `urn` is not the author's image or video, or not yet AVAILABLE."""
    video = urn.startswith("urn:li:video:")
    media: Image | Video | None = (world.videos if video else world.images).get(urn)
    if media is None or media.owner != author:
        return errors.illegal_argument(
            f"/content/media/id :: {urn} is not a known {'video' if video else 'image'} of "
            "the author"
        )
    settings = world.settings
    processing = settings.video_processing_seconds if video else settings.image_processing_seconds
    status = media.status_at(world.now(), processing)
    if status != "AVAILABLE":
        return Response(
            422,
            {"message": f"ERROR :: /content :: media {urn} is not ready ({status})", "status": 422},
        )
    return None


def _recent_same(world: World, author: str, kept: str, now: float) -> Post | None:
    since = now - world.settings.duplicate_window_seconds
    for post in world.posts.values():
        if post.author == author and post.commentary == kept and post.created_at >= since:
            return post
    return None


def image_initialize(world: World, caller: Caller, body: Any, *, here: str) -> Response:
    """POST /rest/images?action=initializeUpload: where to PUT the bytes, and the image URN."""
    request = (body or {}).get("initializeUploadRequest") if isinstance(body, dict) else None
    if not isinstance(request, dict) or not request.get("owner"):
        return errors.missing_field("/initializeUploadRequest/owner")
    owner = str(request["owner"])
    refusal = may_write_as(world, caller, owner)
    if refusal is not None:
        return refusal
    urn = f"urn:li:image:C4E{secrets.token_hex(8).upper()}"
    upload_token = secrets.token_urlsafe(24)
    expires_at = world.now() + UPLOAD_URL_SECONDS
    world.images[urn] = Image(urn, owner, upload_token, expires_at)
    return Response(
        200,
        {
            "value": {
                "uploadUrlExpiresAt": int(expires_at * 1000),
                "uploadUrl": f"{here}/dms-uploads/{upload_token}",
                "image": urn,
            }
        },
    )


def image_upload(world: World, caller: Caller, upload_token: str, data: bytes) -> Response:
    """PUT <uploadUrl>: the image's bytes, with the same member's token."""
    for image in world.images.values():
        if image.upload_token == upload_token:
            break
    else:
        return errors.not_found("upload")
    if (
        may_write_as(world, caller, image.owner) is not None
        or image.upload_expires_at < world.now()
    ):
        return errors.access_denied("upload")
    if not data:
        return errors.illegal_argument("The upload is empty")
    image.size = len(data)
    image.uploaded_at = world.now()
    world.stats.images_uploaded += 1
    return Response(201, None)


def image_read(world: World, caller: Caller, urn: str) -> Response:
    """GET /rest/images/{urn}: an organization's images only; member tokens are refused."""
    image = world.images.get(urn)
    if image is None:
        return errors.not_found(urn)
    if image.owner.startswith("urn:li:person:") or image.owner not in world.author_urns(
        caller.member_id
    ):
        return errors.access_denied("images.GET")
    return Response(
        200,
        {
            "id": urn,
            "owner": image.owner,
            "status": image.status_at(world.now(), world.settings.image_processing_seconds),
        },
    )


def post_shown(post: Post) -> dict[str, Any]:
    created = int(post.created_at * 1000)
    return {
        "id": post.urn,
        "author": post.author,
        "commentary": post.commentary,
        "content": post.content,
        "createdAt": created,
        "publishedAt": created,
        "lastModifiedAt": created,
        "lifecycleState": "PUBLISHED",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
    }


def posts_by_author(world: World, caller: Caller, query: dict[str, str]) -> Response:
    """GET /rest/posts?q=author&author=…: an organization's posts (members' need the
    restricted r_member_social), newest first, `start`/`count` pages."""
    author = unquote(query.get("author", ""))
    if not author:
        return errors.illegal_argument("author is required for q=author")
    if author.startswith("urn:li:person:"):
        if not caller.has(MEMBER_READ):
            return errors.access_denied("partnerApiPostsExternal.FINDER-author.20240101")
    elif author not in world.author_urns(caller.member_id) or not caller.has(ORGANIZATION_READ):
        return errors.access_denied("partnerApiPostsExternal.FINDER-author.20240101")
    start = int(query.get("start", 0) or 0)
    count = min(int(query.get("count", 10) or 10), LISTING_MAX)
    posts = world.posts_of(author)
    return Response(
        200,
        {
            "elements": [post_shown(post) for post in posts[start : start + count]],
            "paging": {"start": start, "count": count, "total": len(posts), "links": []},
        },
    )


def post_read(world: World, caller: Caller, urn: str) -> Response:
    post = world.posts.get(urn)
    if post is None or post.deleted:
        return errors.not_found(urn)
    return Response(200, post_shown(post))


def post_delete(world: World, caller: Caller, urn: str) -> Response:
    """DELETE /rest/posts/{urn}: 204; a post already gone is 404."""
    post = world.posts.get(urn)
    if post is None or post.deleted:
        return errors.not_found(urn)
    refusal = may_write_as(world, caller, post.author)
    if refusal is not None:
        return refusal
    post.deleted = True
    return Response(204, None)


def social_actions(world: World, caller: Caller, urn: str) -> Response:
    """GET /rest/socialActions/{urn}: the post's likes and first-level comments."""
    post = world.posts.get(urn)
    if post is None or post.deleted:
        return errors.not_found(urn)
    return Response(
        200,
        {
            "target": urn,
            "likesSummary": {
                "totalLikes": post.likes,
                "aggregatedTotalLikes": post.likes,
                "likedByCurrentUser": False,
            },
            "commentsSummary": {
                "totalFirstLevelComments": post.comments,
                "aggregatedTotalComments": post.comments,
            },
        },
    )


def share_statistics(world: World, caller: Caller, query: dict[str, str]) -> Response:
    """GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&…&shares=List(…)."""
    organization = unquote(query.get("organizationalEntity", ""))
    if organization not in world.author_urns(caller.member_id) or not caller.has(
        ORGANIZATION_ADMIN
    ):
        return errors.access_denied(
            "organizationalEntityShareStatistics.FINDER-organizationalEntity"
        )
    listed = unquote(query.get("shares", ""))
    if not (listed.startswith("List(") and listed.endswith(")")):
        return errors.illegal_argument("shares must be List(urn, …)")
    elements = []
    for urn in filter(None, listed[5:-1].split(",")):
        post = world.posts.get(urn)
        if post is None or post.deleted or post.author != organization:
            continue
        engaged = post.likes + post.comments + post.shares + post.clicks
        elements.append(
            {
                "organizationalEntity": organization,
                "share": urn,
                "totalShareStatistics": {
                    "impressionCount": post.impressions,
                    "uniqueImpressionsCount": post.impressions,
                    "clickCount": post.clicks,
                    "likeCount": post.likes,
                    "commentCount": post.comments,
                    "shareCount": post.shares,
                    "engagement": engaged / post.impressions if post.impressions else 0.0,
                },
            }
        )
    return Response(200, {"elements": elements, "paging": {"start": 0, "count": 10}})


# --- Videos ---------------------------------------------------------------------------


def video_initialize(world: World, caller: Caller, body: Any, *, here: str) -> Response:
    """POST /rest/videos?action=initializeUpload: the video's URN, and where to PUT each
    part of the file (its first and last byte); an upload token when there are several."""
    request = (body or {}).get("initializeUploadRequest") if isinstance(body, dict) else None
    if not isinstance(request, dict) or not request.get("owner"):
        return errors.missing_field("/initializeUploadRequest/owner")
    size = request.get("fileSizeBytes")
    if not isinstance(size, int) or isinstance(size, bool):
        return errors.missing_field("/initializeUploadRequest/fileSizeBytes")
    if size <= 0:
        return errors.illegal_argument("/initializeUploadRequest/fileSizeBytes must be positive")
    owner = str(request["owner"])
    refusal = may_write_as(world, caller, owner)
    if refusal is not None:
        return refusal
    urn = f"urn:li:video:C5F{secrets.token_hex(8).upper()}"
    step = world.settings.video_part_bytes
    parts = [VideoPart(first, min(first + step, size) - 1) for first in range(0, size, step)]
    secret = secrets.token_urlsafe(16)
    upload_token = secrets.token_urlsafe(24) if len(parts) > 1 else ""
    expires_at = world.now() + UPLOAD_URL_SECONDS
    world.videos[urn] = Video(urn, owner, secret, upload_token, expires_at, size, parts)
    return Response(
        200,
        {
            "value": {
                "uploadUrlsExpireAt": int(expires_at * 1000),
                "video": urn,
                "uploadInstructions": [
                    {
                        "uploadUrl": f"{here}/dms-uploads/video/{secret}/{index}",
                        "firstByte": part.first_byte,
                        "lastByte": part.last_byte,
                    }
                    for index, part in enumerate(parts)
                ],
                "uploadToken": upload_token,
            }
        },
    )


def video_part_upload(
    world: World, caller: Caller, secret: str, index: str, data: bytes
) -> Response:
    """PUT <uploadUrl>: one part's bytes, exactly firstByte to lastByte; 200 with the part's
    `etag` header, which finalizeUpload must name."""
    video = next((video for video in world.videos.values() if video.secret == secret), None)
    if video is None or not index.isdigit() or int(index) >= len(video.parts):
        return errors.not_found("upload")
    if (
        may_write_as(world, caller, video.owner) is not None
        or video.upload_expires_at < world.now()
    ):
        return errors.access_denied("upload")
    part = video.parts[int(index)]
    if len(data) != part.size:
        return errors.illegal_argument(
            f"The part holds {len(data)} bytes; bytes {part.first_byte} to {part.last_byte} "
            f"({part.size}) were expected"
        )
    part.etag = f"/ambry-video/signedId/{secrets.token_urlsafe(18)}"
    world.stats.video_parts_uploaded += 1
    return Response(200, None, headers={"etag": part.etag})


def video_finalize(world: World, caller: Caller, body: Any) -> Response:
    """POST /rest/videos?action=finalizeUpload: the video, its upload token and every
    part's ETag in order; the video then processes until AVAILABLE."""
    request = (body or {}).get("finalizeUploadRequest") if isinstance(body, dict) else None
    if not isinstance(request, dict) or not request.get("video"):
        return errors.missing_field("/finalizeUploadRequest/video")
    video = world.videos.get(str(request["video"]))
    if video is None:
        return errors.not_found(str(request["video"]))
    if may_write_as(world, caller, video.owner) is not None:
        return errors.video_forbidden()
    if str(request.get("uploadToken", "")) != video.upload_token:
        return errors.illegal_argument("/finalizeUploadRequest/uploadToken does not match")
    sent = request.get("uploadedPartIds")
    if sent != [part.etag for part in video.parts] or any(
        part.etag is None for part in video.parts
    ):
        return errors.illegal_argument(
            "/finalizeUploadRequest/uploadedPartIds must name every part's ETag, in order"
        )
    if video.finalized_at is None:
        video.finalized_at = world.now()
        world.stats.videos_uploaded += 1
    return Response(200, None)


def video_read(world: World, caller: Caller, urn: str) -> Response:
    """GET /rest/videos/{urn}: the video's status, to its owner."""
    video = world.videos.get(urn)
    if video is None:
        return errors.not_found(urn)
    if video.owner not in world.author_urns(caller.member_id):
        return errors.video_forbidden()
    return Response(
        200,
        {
            "id": urn,
            "owner": video.owner,
            "status": video.status_at(world.now(), world.settings.video_processing_seconds),
            "uploadUrlsExpireAt": int(video.upload_expires_at * 1000),
        },
    )


# --- A member's analytics -------------------------------------------------------------


def member_post_analytics(world: World, caller: Caller, query: dict[str, str]) -> Response:
    """GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:…)&queryType=…&aggregation=TOTAL:
    one count of one of the member's own posts, with r_member_postAnalytics."""
    if not caller.has(MEMBER_ANALYTICS):
        return errors.access_denied("memberCreatorPostAnalytics.FINDER-entity")
    if query.get("q") != "entity":
        return errors.illegal_argument("q must be entity")
    entity = ANALYTICS_ENTITY.match(query.get("entity", ""))
    metric = query.get("queryType", "")
    if entity is None or metric not in MEMBER_METRICS:
        return errors.illegal_argument(
            "entity must be (share:<urn>) or (ugc:<urn>), queryType one of "
            f"{', '.join(MEMBER_METRICS)}"
        )
    if query.get("aggregation", "TOTAL") != "TOTAL":
        return errors.illegal_argument("only aggregation=TOTAL is answered by the fake")
    urn = entity.group(2)
    post = world.posts.get(urn)
    if post is None or post.deleted:
        return errors.not_found(urn)
    if post.author != caller.urn:
        return errors.access_denied("memberCreatorPostAnalytics.FINDER-entity")
    return Response(
        200,
        {
            "elements": [
                {
                    "count": getattr(post, MEMBER_METRICS[metric]),
                    "metricType": metric,
                    "targetEntity": {entity.group(1): urn},
                }
            ],
            "paging": {"start": 0, "count": 10, "links": []},
        },
    )
