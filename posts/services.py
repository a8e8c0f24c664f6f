from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SocialAccount, Workspace
from accounts.services import audit_record
from posts.models import Post, PostPart, Target


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
def post_set_targets(*, post: Post, accounts: Iterable[SocialAccount], actor) -> None:
    """Make the post go to exactly these accounts, keeping per-account texts already set."""
    accounts = list(accounts)
    foreign = [a for a in accounts if a.workspace_id != post.workspace_id]
    if foreign:
        names = ", ".join(str(a) for a in foreign)
        raise ValidationError(
            f"{names} belong(s) to another workspace; choose this one's accounts."
        )
    wanted = {account.pk for account in accounts}
    current = set(post.targets.values_list("account_id", flat=True))
    if wanted == current:
        return
    post.targets.exclude(account_id__in=wanted).delete()
    Target.objects.bulk_create(
        [Target(post=post, account_id=account_id) for account_id in wanted - current]
    )
    audit_record(
        workspace=post.workspace,
        actor=actor,
        action="post.targets_changed",
        subject=post,
        data={"accounts": sorted(wanted)},
    )


@transaction.atomic
def post_restore(*, post: Post, actor) -> None:
    """Bring a deleted post back as a draft; it must be scheduled again to go out."""
    Post.objects.filter(pk=post.pk).update(
        deleted_at=None, status=Post.Status.DRAFT, updated_at=timezone.now()
    )
    audit_record(workspace=post.workspace, actor=actor, action="post.restored", subject=post)
