"""The approval state machine: each transition by each role, and self-approval."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent, Membership
from posts.approval import TRANSITIONS, post_approve, post_changes_request, post_review_request
from posts.models import Post
from tests.factories import MembershipFactory, PostFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

A = Post.Approval
R = Membership.Role


@pytest.fixture
def workspace():
    return WorkspaceFactory(posts_need_approval=True)


def member(workspace, role):
    return MembershipFactory(workspace=workspace, role=role).user


def post_in(workspace, approval=A.DRAFT, author=None):
    return PostFactory(workspace=workspace, approval=approval, author=author)


def approval_of(post) -> str:
    return Post.objects.values_list("approval", flat=True).get(pk=post.pk)


def events(post) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(subject_id=str(post.pk), action__startswith="post.")
        .exclude(action="post.created")
        .order_by("pk")
        .values_list("action", "actor__username", "from_status", "to_status", "message")
    )


@pytest.mark.parametrize("role", [R.EDITOR, R.APPROVER, R.OWNER])
@pytest.mark.parametrize("start", [A.DRAFT, A.CHANGES_REQUESTED])
def test_whoever_composes_sends_a_draft_or_a_sent_back_post_for_review(workspace, role, start):
    actor = member(workspace, role)
    post = post_in(workspace, start)
    post_review_request(post=post, actor=actor)
    assert approval_of(post) == A.IN_REVIEW
    assert events(post) == [("post.review_requested", actor.username, start, A.IN_REVIEW, "")]


def test_a_viewer_may_not_send_for_review(workspace):
    post = post_in(workspace)
    with pytest.raises(PermissionDenied):
        post_review_request(post=post, actor=member(workspace, R.VIEWER))
    assert approval_of(post) == A.DRAFT
    assert events(post) == []


def test_a_stranger_may_not_send_for_review(workspace):
    post = post_in(workspace)
    with pytest.raises(PermissionDenied):
        post_review_request(post=post, actor=member(WorkspaceFactory(), R.OWNER))


@pytest.mark.parametrize("start", [A.IN_REVIEW, A.APPROVED])
def test_a_post_in_review_or_approved_is_not_sent_again(workspace, start):
    post = post_in(workspace, start)
    with pytest.raises(ValidationError, match="cannot be sent for review"):
        post_review_request(post=post, actor=member(workspace, R.EDITOR))
    assert approval_of(post) == start


def test_nothing_to_review_where_the_workspace_needs_no_approval():
    workspace = WorkspaceFactory(posts_need_approval=False)
    post = post_in(workspace)
    with pytest.raises(ValidationError, match="without approval"):
        post_review_request(post=post, actor=member(workspace, R.EDITOR))


@pytest.mark.parametrize("role", [R.APPROVER, R.OWNER])
def test_approvers_and_owners_approve(workspace, role):
    actor = member(workspace, role)
    post = post_in(workspace, A.IN_REVIEW, author=member(workspace, R.EDITOR))
    post_approve(post=post, actor=actor)
    assert approval_of(post) == A.APPROVED
    assert events(post) == [("post.approved", actor.username, A.IN_REVIEW, A.APPROVED, "")]


@pytest.mark.parametrize("role", [R.APPROVER, R.OWNER])
def test_approvers_and_owners_request_changes_with_a_comment(workspace, role):
    actor = member(workspace, role)
    post = post_in(workspace, A.IN_REVIEW)
    post_changes_request(post=post, actor=actor, comment="  Shorter, please. ")
    assert approval_of(post) == A.CHANGES_REQUESTED
    assert events(post) == [
        (
            "post.changes_requested",
            actor.username,
            A.IN_REVIEW,
            A.CHANGES_REQUESTED,
            "Shorter, please.",
        )
    ]
    event = AuditEvent.objects.get(action="post.changes_requested")
    assert event.data == {"comment": "Shorter, please."}


def test_changes_need_a_comment(workspace):
    post = post_in(workspace, A.IN_REVIEW)
    with pytest.raises(ValidationError, match="Say what should change"):
        post_changes_request(post=post, actor=member(workspace, R.APPROVER), comment="  ")
    assert approval_of(post) == A.IN_REVIEW


@pytest.mark.parametrize("role", [R.EDITOR, R.VIEWER])
def test_editors_and_viewers_decide_nothing(workspace, role):
    actor = member(workspace, role)
    post = post_in(workspace, A.IN_REVIEW)
    with pytest.raises(PermissionDenied):
        post_approve(post=post, actor=actor)
    with pytest.raises(PermissionDenied):
        post_changes_request(post=post, actor=actor, comment="No")
    assert approval_of(post) == A.IN_REVIEW
    assert events(post) == []


def test_an_approver_of_another_workspace_decides_nothing(workspace):
    post = post_in(workspace, A.IN_REVIEW)
    with pytest.raises(PermissionDenied):
        post_approve(post=post, actor=member(WorkspaceFactory(), R.APPROVER))


@pytest.mark.parametrize("start", [A.DRAFT, A.APPROVED, A.CHANGES_REQUESTED])
def test_only_a_post_in_review_is_decided(workspace, start):
    actor = member(workspace, R.APPROVER)
    post = post_in(workspace, start)
    with pytest.raises(ValidationError, match="cannot be approved"):
        post_approve(post=post, actor=actor)
    with pytest.raises(ValidationError, match="cannot be sent back"):
        post_changes_request(post=post, actor=actor, comment="No")
    assert approval_of(post) == start


def test_the_second_of_two_approvers_deciding_at_once_is_told(workspace):
    post = post_in(workspace, A.IN_REVIEW)
    stale = Post.objects.get(pk=post.pk)
    post_approve(post=post, actor=member(workspace, R.APPROVER))
    with pytest.raises(ValidationError, match="is approved now"):
        post_changes_request(post=stale, actor=member(workspace, R.OWNER), comment="Wait")
    assert approval_of(post) == A.APPROVED


def test_an_author_does_not_approve_their_own_post_unless_the_workspace_allows(workspace):
    author = member(workspace, R.APPROVER)
    post = post_in(workspace, A.IN_REVIEW, author=author)
    with pytest.raises(PermissionDenied, match="another approver"):
        post_approve(post=post, actor=author)
    assert approval_of(post) == A.IN_REVIEW

    workspace.authors_may_self_approve = True
    workspace.save()
    post.refresh_from_db()
    post_approve(post=post, actor=author)
    assert approval_of(post) == A.APPROVED


def test_a_superuser_approves_anywhere(workspace):
    admin = UserFactory(is_superuser=True)
    post = post_in(workspace, A.IN_REVIEW)
    post_approve(post=post, actor=admin)
    assert approval_of(post) == A.APPROVED


def test_every_state_has_its_way_out():
    assert set(TRANSITIONS) == set(A.values)
    assert all(TRANSITIONS.values())
