"""A page of the posts list, as PostSerializer would give it, from plain rows.

PostSerializer reads a post's parts, targets, tags and jobs as model instances and
turns each field of each into JSON through a DRF field: for a page of 50 posts that is
hundreds of objects built, linked back to their post and walked field by field; read
as rows instead, a page's CPU fell by about 40% (bench/README.md, P5). Here the same
relations are read as tuples (`values_list`) in the order the serializer's prefetches
give, and the JSON is built directly; moments are formatted by the DRF field the
serializer uses, and the schedule, which needs its model for the recurrence rules,
still goes through ScheduleSerializer. tests/api/test_post_page.py holds the two answers equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from rest_framework import serializers

from posts.models import PartMedia, Post, PostPart, Target
from publishing.models import PublishJob

# How PostSerializer writes a moment (UTC, "Z"): the same field, made once.
_MOMENT = serializers.DateTimeField()

# JobSerializer's fields (its Meta names this), in order, and the columns they come from.
JOB_COLUMNS = {
    "id": "id",
    "post": "post_id",
    "account": "account_id",
    "occurrence_at": "occurrence_at",
    "status": "status",
    "attempt_count": "attempt_count",
    "next_attempt_at": "next_attempt_at",
    "external_id": "external_id",
    "external_url": "external_url",
    "error_kind": "error_kind",
    "error_message": "error_message",
    "published_at": "published_at",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
JOB_MOMENTS = frozenset(
    {"occurrence_at", "next_attempt_at", "published_at", "created_at", "updated_at"}
)


def _moment(value) -> str | None:
    return None if value is None else _MOMENT.to_representation(value)


def posts_page_represent(
    posts: Sequence[Post], *, schedule_serializer: serializers.Serializer
) -> list[dict[str, Any]]:
    """PostSerializer's answer for each of `posts` (their schedules selected with them,
    with the schedules' changes prefetched), with a query per relation for the page."""
    ids = [post.pk for post in posts]
    media = defaultdict(list)
    for part_id, asset_id in (
        PartMedia.objects.filter(part__post_id__in=ids)
        .order_by("part_id", "position")
        .values_list("part_id", "asset_id")
    ):
        media[part_id].append(asset_id)
    parts = defaultdict(list)
    for part_id, post_id, position, text in (
        PostPart.objects.filter(post_id__in=ids)
        .order_by("post_id", "position")
        .values_list("id", "post_id", "position", "text")
    ):
        parts[post_id].append({"position": position, "text": text, "media": media[part_id]})
    targets = defaultdict(list)
    for post_id, account_id, network, handle, text in (
        Target.objects.filter(post_id__in=ids)
        .order_by("id")
        .values_list(
            "post_id", "account_id", "account__network", "account__handle", "text_override"
        )
    ):
        targets[post_id].append(
            {"account": account_id, "network": network, "handle": handle, "text": text}
        )
    tags = defaultdict(list)
    for post_id, tag_id in (
        Post.tags.through.objects.filter(post_id__in=ids)
        .order_by("tag__name", "tag_id")
        .values_list("post_id", "tag_id")
    ):
        tags[post_id].append(tag_id)
    jobs = defaultdict(list)
    for row in (
        PublishJob.objects.filter(post_id__in=ids)
        .order_by("-occurrence_at", "id")
        .values_list(*JOB_COLUMNS.values())
    ):
        job = {
            name: _moment(value) if name in JOB_MOMENTS else value
            for name, value in zip(JOB_COLUMNS, row, strict=True)
        }
        jobs[job["post"]].append(job)
    page = []
    for post in posts:
        schedule = getattr(post, "schedule", None)
        page.append(
            {
                "id": post.pk,
                "workspace": post.workspace_id,
                "status": post.status,
                "approval": post.approval,
                "priority": post.priority,
                "parts": parts[post.pk],
                "targets": targets[post.pk],
                "tags": tags[post.pk],
                "campaign": post.campaign_id,
                "text_variants": post.text_variants,
                "schedule": None
                if schedule is None
                else schedule_serializer.to_representation(schedule),
                "jobs": jobs[post.pk],
                "created_at": _moment(post.created_at),
                "updated_at": _moment(post.updated_at),
                "deleted_at": _moment(post.deleted_at),
            }
        )
    return page
