"""Composing a post in one call: its parts (a thread), media, accounts with their own
texts, tags, campaign, priority and, optionally, its schedule, all or nothing.

Each rule stays with the service that owns it: parts and targets are posts' (their
workspace checks included), media is posts.media's, the schedule is plans'
(`schedule_set`: zone, rule, posting limits, repeats). This module only puts them in
one transaction, so a post whose schedule is refused is not kept half-made, and names
the part of the request each refusal is about (`parts`, `targets`, `schedule`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SocialAccount, Workspace
from accounts.principals import person_of
from accounts.services import audit_record
from posts.approval import post_content_fingerprint
from posts.media import part_media_set
from posts.models import Campaign, MediaAsset, Post, PostPart, Tag
from posts.services import post_create, post_set_targets
from publishing.approval import post_content_edited
from publishing.plans import schedule_set


@dataclass(frozen=True)
class PartDraft:
    text: str
    media: Sequence[MediaAsset] = ()


@dataclass(frozen=True)
class ScheduleDraft:
    kind: str
    local_date: date
    local_time: time
    timezone: str
    every: int | None = None
    unit: str = ""
    cron: str = ""
    rrule: str = ""
    exdates: Sequence[datetime] = ()


@dataclass(frozen=True)
class PostDraft:
    """What a post should be; on an update, None leaves that part of the post as it is."""

    parts: Sequence[PartDraft] | None = None
    accounts: Sequence[SocialAccount] | None = None
    own_texts: dict[int, str] = field(default_factory=dict)
    tags: Sequence[Tag] | None = None
    campaign: Campaign | None = None
    campaign_given: bool = False
    priority: int | None = None
    text_variants: Sequence[str] | None = None
    schedule: ScheduleDraft | None = None


def post_compose(
    *,
    workspace: Workspace,
    draft: PostDraft,
    actor,
    now: datetime | None = None,
    republish: bool = False,
) -> Post:
    """Make a post as `draft` says, scheduled if it says when; nothing is kept on refusal."""
    if not draft.parts:
        raise ValidationError({"parts": "A post needs at least one part with text."})
    with transaction.atomic():
        post = post_create(
            workspace=workspace,
            author=person_of(actor),
            actor=actor,
            texts=[part.text for part in draft.parts],
        )
        _apply(post=post, draft=draft, actor=actor, now=now, republish=republish, new=True)
    return post


def post_revise(
    *,
    post: Post,
    draft: PostDraft,
    actor,
    now: datetime | None = None,
    republish: bool = False,
) -> Post:
    """Change what `draft` names of the post; nothing is kept on refusal."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        before = post_content_fingerprint(post_id=post.pk)
        _apply(post=post, draft=draft, actor=actor, now=now, republish=republish, new=False)
        # What was approved is not what goes out: back to review, as in the admin.
        if before != post_content_fingerprint(post_id=post.pk):
            post_content_edited(post=post, actor=actor, now=now)
        audit_record(
            workspace=post.workspace,
            actor=actor,
            action="post.changed",
            subject=post,
            data={"changed": _named(draft)},
        )
    return post


def _apply(*, post: Post, draft: PostDraft, actor, now, republish: bool, new: bool) -> None:
    workspace_id = post.workspace_id
    _same_workspace("tags", draft.tags or (), workspace_id)
    _same_workspace("campaign", [draft.campaign] if draft.campaign else (), workspace_id)
    fields: dict = {}
    if draft.priority is not None:
        fields["priority"] = draft.priority
    if draft.text_variants is not None:
        fields["text_variants"] = [text.strip() for text in draft.text_variants if text.strip()]
    if draft.campaign_given:
        fields["campaign"] = draft.campaign
    if fields:
        Post.objects.filter(pk=post.pk).update(**fields, updated_at=timezone.now())
        for name, value in fields.items():
            setattr(post, name, value)
    if draft.tags is not None:
        post.tags.set(draft.tags)
    if draft.parts is not None:
        if not draft.parts:
            raise ValidationError({"parts": "A post needs at least one part with text."})
        if not new:
            _parts_replace(post=post, parts=draft.parts)
        try:
            for part, given in zip(post.parts.order_by("position"), draft.parts, strict=True):
                part_media_set(part=part, assets=list(given.media), actor=actor)
        except ValidationError as refusal:
            raise ValidationError({"parts": refusal.messages}) from refusal
    if draft.accounts is not None:
        try:
            post_set_targets(
                post=post,
                accounts=draft.accounts,
                actor=actor,
                texts={
                    account.pk: draft.own_texts.get(account.pk, "") for account in draft.accounts
                },
            )
        except ValidationError as refusal:
            raise ValidationError({"targets": refusal.messages}) from refusal
    if draft.schedule is not None:
        post_schedule_from_draft(
            post=post, schedule=draft.schedule, actor=actor, now=now, republish=republish
        )


def schedule_from_draft(
    *, post: Post, schedule: ScheduleDraft, actor, now=None, republish: bool = False
):
    """`schedule_set` with the request's words; refusals name the schedule's fields."""
    return schedule_set(
        post=post,
        kind=schedule.kind,
        local_date=schedule.local_date,
        local_time=schedule.local_time,
        timezone_name=schedule.timezone,
        every=schedule.every,
        unit=schedule.unit,
        cron=schedule.cron,
        rrule=schedule.rrule,
        exdates=schedule.exdates,
        actor=actor,
        now=now,
        republish=republish,
    )


def post_schedule_from_draft(
    *, post: Post, schedule: ScheduleDraft, actor, now=None, republish: bool = False
):
    """`schedule_from_draft` for a post's request: its refusals are named under `schedule`."""
    try:
        return schedule_from_draft(
            post=post, schedule=schedule, actor=actor, now=now, republish=republish
        )
    except ValidationError as refusal:
        raise ValidationError({"schedule": _field_messages(refusal)}) from refusal


def _parts_replace(*, post: Post, parts: Sequence[PartDraft]) -> None:
    """The post's parts become `parts`, in order; parts kept keep their rows (and media)."""
    current = list(post.parts.order_by("position"))
    for position, given in enumerate(parts):
        if position < len(current):
            if current[position].text != given.text:
                PostPart.objects.filter(pk=current[position].pk).update(text=given.text)
        else:
            PostPart.objects.create(post=post, position=position, text=given.text)
    PostPart.objects.filter(post=post, position__gte=len(parts)).delete()


def _same_workspace(name: str, rows, workspace_id: int) -> None:
    foreign = [str(row) for row in rows if row.workspace_id != workspace_id]
    if foreign:
        raise ValidationError(
            {name: f"{', '.join(foreign)} belong(s) to another workspace; choose this one's."}
        )


def _field_messages(refusal: ValidationError) -> list[str]:
    """A refusal's messages, each led by the field it names (`timezone: …`)."""
    if not hasattr(refusal, "error_dict"):
        return refusal.messages
    return [
        message if name == "__all__" else f"{name}: {message}"
        for name, messages in refusal.message_dict.items()
        for message in messages
    ]


def _named(draft: PostDraft) -> list[str]:
    names = ["parts", "accounts", "tags", "priority", "text_variants", "schedule"]
    changed = [name for name in names if getattr(draft, name) is not None]
    return changed + (["campaign"] if draft.campaign_given else [])
