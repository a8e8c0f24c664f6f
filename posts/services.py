from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SocialAccount, Workspace
from accounts.services import audit_record
from posts.models import Campaign, Post, PostPart, Tag, Target

# Between two text variants of a recurring post, on a line of its own.
VARIANT_SEPARATOR = "---"


def text_variants_parse(raw: str) -> list[str]:
    """The text variants typed in one box, separated by lines of VARIANT_SEPARATOR."""
    raw = raw.replace("\r\n", "\n")
    chunks = raw.split(f"\n{VARIANT_SEPARATOR}\n") if raw.strip() else []
    return [chunk.strip() for chunk in chunks if chunk.strip()]


@transaction.atomic
def post_create(
    *,
    workspace: Workspace,
    author,
    texts: Iterable[str],
    accounts: Iterable[SocialAccount] = (),
    actor=None,
) -> Post:
    """A draft post with one part per text (one text: a plain post; several: a thread).

    `actor` is who made it when that is not its author (an API key); by default the
    author."""
    texts = list(texts)
    if not texts:
        raise ValidationError("A post needs at least one part with text.")
    post = Post.objects.create(workspace=workspace, author=author)
    PostPart.objects.bulk_create(
        PostPart(post=post, position=position, text=text) for position, text in enumerate(texts)
    )
    actor = author if actor is None else actor
    post_set_targets(post=post, accounts=accounts, actor=actor)
    audit_record(workspace=workspace, actor=actor, action="post.created", subject=post)
    return post


@transaction.atomic
def post_set_targets(
    *,
    post: Post,
    accounts: Iterable[SocialAccount],
    actor,
    texts: Mapping[int, str] | None = None,
) -> None:
    """Make the post go to exactly these accounts.

    `texts` gives accounts (by id) a text of their own for part 1, an empty one
    meaning the post's; without `texts`, texts already set are kept. A target
    removed, added or given other text is recorded, old and new.
    """
    accounts = list(accounts)
    foreign = [a for a in accounts if a.workspace_id != post.workspace_id]
    if foreign:
        names = ", ".join(str(a) for a in foreign)
        raise ValidationError(
            f"{names} belong(s) to another workspace; choose this one's accounts."
        )
    names = {account.pk: str(account) for account in accounts}
    current = {target.account_id: target for target in post.targets.select_related("account")}
    wanted = set(names)
    removed = [str(current[pk].account) for pk in sorted(set(current) - wanted)]
    added = [names[pk] for pk in sorted(wanted - set(current))]
    texts_changed = {}
    for pk in sorted(wanted):
        old = current[pk].text_override if pk in current else ""
        new = texts.get(pk, old).strip() if texts is not None else old
        if new != old:
            texts_changed[names[pk]] = [old, new]
    if not (removed or added or texts_changed):
        return
    post.targets.exclude(account_id__in=wanted).delete()
    Target.objects.bulk_create(
        [
            Target(post=post, account_id=pk, text_override=(texts or {}).get(pk, "").strip())
            for pk in sorted(wanted - set(current))
        ]
    )
    for pk in wanted & set(current):
        if names[pk] in texts_changed:
            Target.objects.filter(pk=current[pk].pk).update(
                text_override=texts_changed[names[pk]][1]
            )
    audit_record(
        workspace=post.workspace,
        actor=actor,
        action="post.targets_changed",
        subject=post,
        data={
            "accounts": sorted(wanted),
            "added": added,
            "removed": removed,
            "texts": texts_changed,
        },
    )


@transaction.atomic
def post_restore(*, post: Post, actor) -> None:
    """Bring a deleted post back as a draft; it must be scheduled again to go out."""
    Post.objects.filter(pk=post.pk).update(
        deleted_at=None, status=Post.Status.DRAFT, updated_at=timezone.now()
    )
    audit_record(workspace=post.workspace, actor=actor, action="post.restored", subject=post)


def tag_name_clean(*, workspace_id: int, name: str, tag_id: int | None = None) -> str:
    """The tag name to keep (trimmed), or a refusal naming `name`: names are unique
    within a workspace, whatever their case. The admin's tag form asks it too."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the tag a name."})
    others = Tag.objects.filter(workspace_id=workspace_id, name__iexact=name).exclude(pk=tag_id)
    if others.exists():
        raise ValidationError({"name": f"The workspace has a tag “{name}” already."})
    return name


def tag_create(*, workspace: Workspace, name: str, actor) -> Tag:
    """A tag of the workspace; names are unique within it."""
    name = tag_name_clean(workspace_id=workspace.pk, name=name)
    tag = Tag.objects.create(workspace=workspace, name=name)
    audit_record(workspace=workspace, actor=actor, action="tag.created", subject=tag)
    return tag


@transaction.atomic
def tag_rename(*, tag: Tag, name: str, actor) -> Tag:
    """Give the tag another name; its posts keep it."""
    name = tag_name_clean(workspace_id=tag.workspace_id, name=name, tag_id=tag.pk)
    if name != tag.name:
        was, tag.name = tag.name, name
        tag.save(update_fields=["name"])
        audit_record(
            workspace=tag.workspace,
            actor=actor,
            action="tag.changed",
            subject=tag,
            data={"changes": {"name": [was, name]}},
        )
    return tag


def tag_delete(*, tag: Tag, actor) -> None:
    """Remove the tag from the workspace and from its posts."""
    with transaction.atomic():
        audit_record(
            workspace=tag.workspace,
            actor=actor,
            action="tag.deleted",
            subject=tag,
            data={"was": tag.name},
        )
        tag.delete()


CAMPAIGN_FIELDS = ("name", "description", "starts_on", "ends_on", "timezone")


@transaction.atomic
def campaign_create(*, workspace: Workspace, actor, **values) -> Campaign:
    """A campaign of the workspace, checked by the model's rules (the admin's form runs
    the same `full_clean`)."""
    campaign = Campaign(workspace=workspace, **_campaign_values(values))
    campaign.full_clean()
    campaign.save()
    audit_record(workspace=workspace, actor=actor, action="campaign.created", subject=campaign)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, actor, **values) -> Campaign:
    """Change the named fields of a campaign; its posts stay in it."""
    values = _campaign_values(values)
    before = {name: str(getattr(campaign, name)) for name in values}
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.full_clean()
    changes = {
        name: [before[name], str(value)]
        for name, value in values.items()
        if before[name] != str(value)
    }
    if changes:
        campaign.save()
        audit_record(
            workspace=campaign.workspace,
            actor=actor,
            action="campaign.changed",
            subject=campaign,
            data={"changes": changes},
        )
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor) -> None:
    """Remove the campaign; its posts stay, in no campaign."""
    audit_record(
        workspace=campaign.workspace,
        actor=actor,
        action="campaign.deleted",
        subject=campaign,
        data={"was": campaign.name},
    )
    campaign.delete()


def _campaign_values(values: Mapping) -> dict:
    unknown = sorted(set(values) - set(CAMPAIGN_FIELDS))
    if unknown:
        raise ValueError(f"Not a campaign field: {', '.join(unknown)}.")
    return dict(values)
