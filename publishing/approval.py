"""Approval where it meets the jobs: what waits for an approver, and edits after approval.

The approval states and who moves them are `posts.approval`. This module holds what
needs the jobs too:

* `JOB_WAITS_FOR_APPROVAL`: the condition under which a job may not be dispatched.
  `publishing.dispatch.jobs_dispatch` leaves such jobs pending (they spend no
  attempt), and `jobs_miss_unapproved` marks them missed once the workspace's
  missed-post window has passed, as it would an undispatched job.
* `post_content_edited`: an approved post whose content changes goes back to review
  and its queued jobs back to pending.

Locking (`post_content_edited`): the post's pending and queued jobs are locked
(`SELECT … FOR UPDATE`, no SKIP LOCKED: it waits for a dispatch tick holding them to
commit) before the queued ones are moved back to pending with a compare-and-set.
A tick that locked the jobs first and saw the post approved has queued them by then,
and they are moved back; a tick that comes after sees the post in review and leaves
them. A worker claims with `queued → running`, so once a job is back to pending its
message is dropped.

The tick's side (`posts_still_approved`): an edit cannot lock jobs it cannot see yet,
and a tick's query reads the post as its statement began. So a tick that queues jobs
of a post in a workspace asking for approval also reads the post again under a share
lock, and queues only if it is still approved. The edit's compare-and-set of the post
and that lock meet on the post's row: an edit that moved first is waited for, and the
post is read in review (the jobs stay pending); a tick that locked first is waited for
by the edit, whose pull-back then finds the jobs queued and moves them back. (A tick
that materialized jobs just after the edit locked the post's jobs was the gap, seen
in tests/integration/test_concurrency.py.)

A job already running has reached the network with what was approved: an edit
cannot call it back, as an edit without approval cannot either.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.db.models import DateTimeField, F, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.permissions import POST_APPROVE, workspaces_where
from posts.approval import approval_transition
from posts.models import Post
from publishing.models import JobStatus, PublishJob
from publishing.states import job_transition

A = Post.Approval
S = JobStatus

# A job of a post that still needs an approver's yes, in a workspace that asks for one.
JOB_WAITS_FOR_APPROVAL = Q(post__workspace__posts_need_approval=True) & ~Q(
    post__approval=A.APPROVED
)


def posts_still_approved(*, post_ids) -> set[int]:
    """Of `post_ids`, the posts approved now, each read under a share lock until the
    caller's transaction ends (PostgreSQL; the module's docstring says why)."""
    approved = Post.objects.filter(pk__in=post_ids, approval=A.APPROVED).values_list(
        "pk", flat=True
    )
    if connection.vendor != "postgresql":
        return set(approved)
    sql, params = approved.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR SHARE", params)
        return {pk for (pk,) in cursor.fetchall()}


@transaction.atomic
def post_content_edited(*, post: Post, actor, now: datetime | None = None) -> bool:
    """An approved post's text, parts, media or accounts changed: back to review, and its
    queued jobs back to pending until approved again. True when it went back."""
    if not post.workspace.posts_need_approval:
        return False
    now = now or timezone.now()
    list(
        PublishJob.objects.select_for_update(of=("self",))
        .filter(post=post, status__in=[S.PENDING, S.QUEUED])
        .values_list("pk", flat=True)
    )
    moved = approval_transition(
        post=post,
        to=A.IN_REVIEW,
        actor=actor,
        from_states=frozenset({A.APPROVED}),
        data={"reason": "edited after approval"},
    )
    if not moved:
        return False
    job_transition(
        job_ids=PublishJob.objects.filter(post=post, status=S.QUEUED).values_list("pk", flat=True),
        from_statuses=[S.QUEUED],
        to_status=S.PENDING,
        now=now,
        lease_expires_at=None,
        error_message="Edited after approval: waiting for an approver again.",
    )
    return True


def posts_awaiting_approval(*, user) -> QuerySet[Post]:
    """The posts in review that `user` may decide on, oldest due first (the earliest job
    still waiting, else the schedule's next occurrence), then those with no time."""
    return (
        Post.objects.alive()
        .filter(
            approval=A.IN_REVIEW,
            workspace__posts_need_approval=True,
            workspace__in=workspaces_where(user=user, action=POST_APPROVE),
        )
        .annotate(
            due_at=Coalesce(
                Min("jobs__due_at", filter=Q(jobs__status=S.PENDING)),
                "schedule__next_occurrence_at",
                output_field=DateTimeField(),
            )
        )
        .order_by(F("due_at").asc(nulls_last=True), "created_at")
    )


def jobs_overdue_for_approval(*, now: datetime) -> QuerySet[PublishJob]:
    """Jobs whose time has come while their post still waits for approval (within the
    missed-post window: past it they are marked missed)."""
    return PublishJob.objects.filter(JOB_WAITS_FOR_APPROVAL, status=S.PENDING, due_at__lte=now)
