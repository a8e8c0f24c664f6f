"""Approval where dispatch decides: only approved posts go out, an unapproved one is
overdue and then missed, an edit after approval sends it back."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import AuditEvent, Membership
from posts.approval import post_approve, post_content_fingerprint
from posts.models import Post, PostPart
from publishing.approval import (
    jobs_overdue_for_approval,
    post_content_edited,
    posts_awaiting_approval,
)
from publishing.execution import jobs_start
from publishing.models import JobStatus as S
from publishing.models import PublishJob
from tests.factories import (
    MembershipFactory,
    PostFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
    schedule_once_at,
)

pytestmark = pytest.mark.django_db

A = Post.Approval
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def scheduled_post(*, at, approval=A.IN_REVIEW, need_approval=True, workspace=None) -> Post:
    workspace = workspace or WorkspaceFactory(
        posts_need_approval=need_approval, missed_post_window=timedelta(hours=6)
    )
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account], approval=approval)
    schedule_once_at(post, at)
    return post


def statuses(post) -> set[str]:
    return set(PublishJob.objects.filter(post=post).values_list("status", flat=True))


def test_an_approved_post_is_dispatched_at_its_time(tick, broker_messages):
    post = scheduled_post(at=NOON, approval=A.APPROVED)
    tick(now=NOON)
    assert statuses(post) == {S.QUEUED}
    assert len(broker_messages("publish")) == 1


@pytest.mark.parametrize("approval", [A.DRAFT, A.IN_REVIEW, A.CHANGES_REQUESTED])
def test_a_post_waiting_for_approval_is_not_dispatched_but_overdue(tick, broker_messages, approval):
    post = scheduled_post(at=NOON, approval=approval)
    result = tick(now=NOON)
    assert result.queued == 0
    assert statuses(post) == {S.PENDING}
    assert broker_messages("publish") == []
    assert set(jobs_overdue_for_approval(now=NOON).values_list("post", flat=True)) == {post.pk}


def test_approval_is_ignored_where_the_workspace_needs_none(tick):
    post = scheduled_post(at=NOON, approval=A.DRAFT, need_approval=False)
    tick(now=NOON)
    assert statuses(post) == {S.QUEUED}
    assert not jobs_overdue_for_approval(now=NOON).exists()


def test_approved_within_the_window_it_goes_out_late(tick):
    post = scheduled_post(at=NOON, approval=A.IN_REVIEW)
    approver = MembershipFactory(workspace=post.workspace, role=Membership.Role.APPROVER).user
    tick(now=NOON)
    later = NOON + timedelta(hours=5, minutes=59)
    with time_machine.travel(later, tick=False):
        tick(now=later)
        assert statuses(post) == {S.PENDING}
        post_approve(post=post, actor=approver)
        tick(now=later)
    assert statuses(post) == {S.QUEUED}


def test_still_unapproved_past_the_window_it_is_missed(tick):
    post = scheduled_post(at=NOON, approval=A.IN_REVIEW)
    tick(now=NOON)
    tick(now=NOON + timedelta(hours=6))
    assert statuses(post) == {S.PENDING}
    result = tick(now=NOON + timedelta(hours=6, seconds=1))
    assert result.missed == 1
    assert statuses(post) == {S.MISSED}
    post.refresh_from_db()
    assert post.status == Post.Status.MISSED
    assert not jobs_overdue_for_approval(now=NOON + timedelta(hours=7)).exists()


def test_approved_past_the_window_it_is_missed_not_sent_late(tick):
    post = scheduled_post(at=NOON, approval=A.APPROVED)
    workspace = post.workspace
    workspace.publishing_paused_at = NOON
    workspace.save()
    tick(now=NOON)
    workspace.publishing_paused_at = None
    workspace.save()
    tick(now=NOON + timedelta(hours=7))
    assert statuses(post) == {S.MISSED}


def test_editing_an_approved_post_sends_it_back_and_recalls_its_queued_jobs(tick, broker_messages):
    post = scheduled_post(at=NOON, approval=A.APPROVED)
    editor = MembershipFactory(workspace=post.workspace, role=Membership.Role.EDITOR).user
    tick(now=NOON)
    assert statuses(post) == {S.QUEUED}
    assert post_content_edited(post=post, actor=editor, now=NOON) is True
    assert Post.objects.get(pk=post.pk).approval == A.IN_REVIEW
    job = PublishJob.objects.get(post=post)
    assert (job.status, job.lease_expires_at) == (S.PENDING, None)
    event = AuditEvent.objects.get(action="post.review_requested", subject_id=str(post.pk))
    assert (event.actor, event.from_status, event.data) == (
        editor,
        A.APPROVED,
        {"reason": "edited after approval"},
    )
    # The worker's claim (queued → running) finds nothing to run; no new dispatch either.
    assert jobs_start(job_ids=[job.pk], now=NOON) == []
    tick(now=NOON + timedelta(minutes=1))
    assert statuses(post) == {S.PENDING}


@pytest.mark.parametrize("approval", [A.DRAFT, A.IN_REVIEW, A.CHANGES_REQUESTED])
def test_editing_a_post_not_approved_changes_nothing(approval):
    post = scheduled_post(at=NOON, approval=approval)
    assert post_content_edited(post=post, actor=None, now=NOON) is False
    assert Post.objects.get(pk=post.pk).approval == approval
    assert not AuditEvent.objects.filter(action="post.review_requested").exists()


def test_editing_where_no_approval_is_needed_changes_nothing():
    post = scheduled_post(at=NOON, approval=A.APPROVED, need_approval=False)
    assert post_content_edited(post=post, actor=None, now=NOON) is False
    assert Post.objects.get(pk=post.pk).approval == A.APPROVED


def test_the_fingerprint_changes_with_text_media_and_accounts_not_with_priority():
    post = scheduled_post(at=NOON)
    before = post_content_fingerprint(post_id=post.pk)
    Post.objects.filter(pk=post.pk).update(priority=0)
    assert post_content_fingerprint(post_id=post.pk) == before
    PostPart.objects.filter(post=post).update(text="Other words")
    assert post_content_fingerprint(post_id=post.pk) != before
    PostPart.objects.filter(post=post).update(text="Hello from Kairos")
    assert post_content_fingerprint(post_id=post.pk) == before
    post.targets.all().delete()
    assert post_content_fingerprint(post_id=post.pk) != before


def test_the_queue_shows_posts_in_review_oldest_due_first_for_who_may_approve():
    workspace = WorkspaceFactory(posts_need_approval=True)
    later = scheduled_post(at=NOON + timedelta(days=2), workspace=workspace)
    sooner = scheduled_post(at=NOON + timedelta(days=1), workspace=workspace)
    undated = PostFactory(workspace=workspace, approval=A.IN_REVIEW)
    scheduled_post(at=NOON, workspace=workspace, approval=A.DRAFT)
    approver = MembershipFactory(workspace=workspace, role=Membership.Role.APPROVER).user
    editor = MembershipFactory(workspace=workspace, role=Membership.Role.EDITOR).user
    stranger = MembershipFactory(role=Membership.Role.APPROVER).user
    assert list(posts_awaiting_approval(user=approver)) == [sooner, later, undated]
    assert list(posts_awaiting_approval(user=editor)) == []
    assert list(posts_awaiting_approval(user=stranger)) == []
