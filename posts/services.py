from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SocialAccount, Workspace
from accounts.services import audit_record
from posts.models import Post, PostPart, Target

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
) -> Post:
    """A draft post with one part per text (one text: a plain post; several: a thread)."""
    texts = list(texts)
    if not texts:
        raise ValidationError("A post needs at least one part with text.")
    post = Post.objects.create(workspace=workspace, author=author)
    PostPart.objects.bulk_create(
        PostPart(post=post, position=position, text=text) for position, text in enumerate(texts)
    )
    post_set_targets(post=post, accounts=accounts, actor=author)
    audit_record(workspace=workspace, actor=author, action="post.created", subject=post)
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
