"""A post's approval, in a workspace whose posts need it: the transitions, written once.

    draft ──► in_review ──► approved
                ▲   │          │
                │   ▼          │ (its text, parts, media or accounts edited:
     changes_requested         │  publishing.approval.post_content_edited)
                ▲              ▼
                └────────── in_review

Who may move a post: anyone who may compose asks for review (`POST_COMPOSE`);
approvers and owners decide (`POST_APPROVE`), and approve a post they wrote
themselves only where the workspace allows it (`authors_may_self_approve`).

Every change is a compare-and-set on the post's row (`UPDATE … WHERE approval IN
(expected)`), written to the audit trail in the same transaction: two approvers
deciding at once, or an approval racing an edit, leave one winner and the other
told what happened. Whether an unapproved post may go out is decided where jobs
are dispatched (`publishing.dispatch.jobs_dispatch`), not here.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.permissions import POST_APPROVE, POST_COMPOSE, member_may
from accounts.services import audit_record
from posts.models import Post, PostPart, Target

A = Post.Approval

TRANSITIONS: dict[str, frozenset[str]] = {
    A.DRAFT: frozenset({A.IN_REVIEW}),
    A.IN_REVIEW: frozenset({A.APPROVED, A.CHANGES_REQUESTED}),
    A.CHANGES_REQUESTED: frozenset({A.IN_REVIEW}),
    # Back to review when its content is edited.
    A.APPROVED: frozenset({A.IN_REVIEW}),
}

# The audit event each arrival writes.
EVENTS = {
    A.IN_REVIEW: "post.review_requested",
    A.APPROVED: "post.approved",
    A.CHANGES_REQUESTED: "post.changes_requested",
}

# How the post's page names them.
EVENT_LABELS = {
    "post.review_requested": "Review requested",
    "post.approved": "Approved",
    "post.changes_requested": "Changes requested",
}


def approval_transition(
    *, post: Post, to: str, actor, from_states: frozenset[str], data: dict | None = None
) -> bool:
    """Move the post from one of `from_states` to `to` and record it; False when another
    change came first (the post is no longer in any of `from_states`)."""
    for state in from_states:
        if to not in TRANSITIONS[state]:
            raise ValueError(f"A post's approval cannot go from {state} to {to}.")
    before = (
        Post.objects.filter(pk=post.pk, approval__in=from_states)
        .values_list("approval", flat=True)
        .first()
    )
    moved = Post.objects.filter(pk=post.pk, approval__in=from_states).update(
        approval=to, updated_at=timezone.now()
    )
    if not moved:
        return False
    post.approval = to
    audit_record(
        workspace=post.workspace,
        actor=actor,
        action=EVENTS[to],
        subject=post,
        from_status=before or "",
        to_status=to,
        message=(data or {}).get("comment", ""),
        data=data,
    )
    return True


def post_awaits_approval(*, post: Post) -> bool:
    """Whether the post may not go out yet for want of an approval (the rule dispatch
    applies to its jobs: publishing.approval.JOB_WAITS_FOR_APPROVAL)."""
    return post.workspace.posts_need_approval and post.approval != A.APPROVED


def _approval_required(post: Post) -> None:
    if not post.workspace.posts_need_approval:
        raise ValidationError(
            f"Posts of {post.workspace} go out without approval; an owner can turn "
            "“posts need approval” on in the workspace's settings."
        )


def _moved_or_refuse(moved: bool, *, post: Post, wanted: str) -> None:
    if not moved:
        current = Post.objects.filter(pk=post.pk).values_list("approval", flat=True).first()
        raise ValidationError(
            f"{post} is {A(current).label.lower()} now, so it cannot be {wanted}; "
            "reload the page to see who changed it."
        )


@transaction.atomic
def post_review_request(*, post: Post, actor) -> None:
    """Ask the workspace's approvers to look at a draft or a post sent back for changes."""
    if not member_may(user=actor, workspace=post.workspace_id, action=POST_COMPOSE):
        raise PermissionDenied(f"You may not send posts of {post.workspace} for review.")
    _approval_required(post)
    moved = approval_transition(
        post=post,
        to=A.IN_REVIEW,
        actor=actor,
        from_states=frozenset({A.DRAFT, A.CHANGES_REQUESTED}),
    )
    _moved_or_refuse(moved, post=post, wanted="sent for review")


def _decider_check(*, post: Post, actor) -> None:
    if not member_may(user=actor, workspace=post.workspace_id, action=POST_APPROVE):
        raise PermissionDenied(f"You may not approve posts of {post.workspace}.")
    _approval_required(post)


@transaction.atomic
def post_approve(*, post: Post, actor) -> None:
    """Approve a post in review: from now on its jobs may be dispatched."""
    _decider_check(post=post, actor=actor)
    own = post.author_id is not None and post.author_id == actor.pk
    if own and not post.workspace.authors_may_self_approve:
        raise PermissionDenied(
            f"You wrote {post}; in {post.workspace} another approver must approve it."
        )
    moved = approval_transition(
        post=post, to=A.APPROVED, actor=actor, from_states=frozenset({A.IN_REVIEW})
    )
    _moved_or_refuse(moved, post=post, wanted="approved")


@transaction.atomic
def post_changes_request(*, post: Post, actor, comment: str) -> None:
    """Send a post in review back to its author with what to change."""
    _decider_check(post=post, actor=actor)
    comment = comment.strip()
    if not comment:
        raise ValidationError("Say what should change, so the author knows what to do.")
    moved = approval_transition(
        post=post,
        to=A.CHANGES_REQUESTED,
        actor=actor,
        from_states=frozenset({A.IN_REVIEW}),
        data={"comment": comment},
    )
    _moved_or_refuse(moved, post=post, wanted="sent back for changes")


def post_content_fingerprint(*, post_id: int) -> tuple:
    """What an approver approved: the parts' texts and files, the accounts and their own
    texts, the text variants. Two equal fingerprints are the same content."""
    variants = Post.objects.filter(pk=post_id).values_list("text_variants", flat=True).first()
    parts = PostPart.objects.filter(post_id=post_id).values_list(
        "position", "text", "partmedia__asset_id"
    )
    targets = Target.objects.filter(post_id=post_id).values_list("account_id", "text_override")
    return (
        variants,
        tuple(parts.order_by("position", "partmedia__position", "partmedia__asset_id")),
        tuple(targets.order_by("account_id")),
    )


def approval_history(*, post: Post) -> QuerySet[AuditEvent]:
    """Who asked for review, who decided, when and why: the post's approval events."""
    return (
        AuditEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(Post),
            subject_id=str(post.pk),
            action__in=EVENTS.values(),
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )
