"""Approval in the admin: the post page's buttons, the queue, the history, edits."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Membership
from posts.models import Post
from publishing.models import JobStatus as S
from tests.factories import (
    MembershipFactory,
    PostFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
)
from tests.posts.test_admin import change_data

pytestmark = pytest.mark.django_db

A = Post.Approval
R = Membership.Role
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def workspace():
    return WorkspaceFactory(posts_need_approval=True)


def signed_in(client, workspace, role):
    user = MembershipFactory(workspace=workspace, role=role).user
    client.force_login(user)
    return user


def approval_of(post) -> str:
    return Post.objects.values_list("approval", flat=True).get(pk=post.pk)


def page_of(client, post) -> str:
    return client.get(reverse("admin:posts_post_change", args=[post.pk])).content.decode()


def test_an_editor_submits_from_the_post_page(client, workspace):
    signed_in(client, workspace, R.EDITOR)
    post = PostFactory(workspace=workspace)
    page = page_of(client, post)
    assert "Submit for review" in page
    assert ">Approve<" not in page
    response = client.post(reverse("admin:posts_post_review_request", args=[post.pk]), follow=True)
    assert "sent for review" in response.content.decode()
    assert approval_of(post) == A.IN_REVIEW
    assert "Submit for review" not in page_of(client, post)


def test_an_approver_approves_from_the_queue_and_the_page_tells_who_and_when(client, workspace):
    author = MembershipFactory(workspace=workspace, role=R.EDITOR).user
    post = PostFactory(workspace=workspace, author=author, approval=A.IN_REVIEW)
    approver = signed_in(client, workspace, R.APPROVER)
    queue = client.get(reverse("admin:posts_post_approval_queue")).content.decode()
    assert f'data-post="{post.pk}"' in queue
    response = client.post(
        reverse("admin:posts_post_approve", args=[post.pk]), {"next": "queue"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("admin:posts_post_approval_queue")
    assert "Nothing waits for your approval" in response.content.decode()
    assert approval_of(post) == A.APPROVED
    page = page_of(client, post)
    assert f"Approved · {approver.username}" in page


def test_an_approver_requests_changes_with_a_comment_shown_on_the_page(client, workspace):
    post = PostFactory(workspace=workspace, approval=A.IN_REVIEW)
    approver = signed_in(client, workspace, R.APPROVER)
    url = reverse("admin:posts_post_changes_request", args=[post.pk])
    assert client.post(url, {"comment": ""}).status_code == 200
    assert approval_of(post) == A.IN_REVIEW
    client.post(url, {"comment": "Name the city, please."})
    assert approval_of(post) == A.CHANGES_REQUESTED
    page = page_of(client, post)
    assert f"Changes requested · {approver.username}: “Name the city, please.”" in page


def test_an_editor_cannot_approve_even_by_posting(client, workspace):
    post = PostFactory(workspace=workspace, approval=A.IN_REVIEW)
    signed_in(client, workspace, R.EDITOR)
    response = client.post(reverse("admin:posts_post_approve", args=[post.pk]), follow=True)
    assert "You may not approve" in response.content.decode()
    assert approval_of(post) == A.IN_REVIEW
    changes_page = client.get(reverse("admin:posts_post_changes_request", args=[post.pk]))
    assert changes_page.status_code == 403
    assert (
        f'data-post="{post.pk}"'
        not in client.get(reverse("admin:posts_post_approval_queue")).content.decode()
    )


def test_an_author_is_told_to_ask_another_approver(client, workspace):
    approver = signed_in(client, workspace, R.APPROVER)
    post = PostFactory(workspace=workspace, author=approver, approval=A.IN_REVIEW)
    response = client.post(reverse("admin:posts_post_approve", args=[post.pk]), follow=True)
    assert "another approver must approve it" in response.content.decode()
    assert approval_of(post) == A.IN_REVIEW


def test_another_workspaces_post_is_not_found(client, workspace):
    theirs = PostFactory(workspace=WorkspaceFactory(posts_need_approval=True), approval=A.IN_REVIEW)
    signed_in(client, workspace, R.OWNER)
    assert client.post(reverse("admin:posts_post_approve", args=[theirs.pk])).status_code == 404
    assert (
        client.get(reverse("admin:posts_post_changes_request", args=[theirs.pk])).status_code == 404
    )
    assert approval_of(theirs) == A.IN_REVIEW


def test_no_buttons_where_no_approval_is_needed(client):
    workspace = WorkspaceFactory(posts_need_approval=False)
    signed_in(client, workspace, R.OWNER)
    page = page_of(client, PostFactory(workspace=workspace))
    assert "Submit for review" not in page
    assert "Review history" not in page


@time_machine.travel(NOW, tick=False)
def test_editing_an_approved_posts_text_sends_it_back_to_review(client, workspace):
    signed_in(client, workspace, R.EDITOR)
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account], approval=A.APPROVED)
    url = reverse("admin:posts_post_change", args=[post.pk])
    # Saving it unchanged (say, a new priority) keeps the approval.
    client.post(url, change_data(post, priority=3))
    assert approval_of(post) == A.APPROVED
    response = client.post(url, change_data(post, **{"parts-0-text": "New words"}), follow=True)
    assert "waits for an approver again" in response.content.decode()
    assert approval_of(post) == A.IN_REVIEW


@time_machine.travel(NOW, tick=False)
def test_removing_an_account_of_an_approved_post_sends_it_back(client, workspace):
    signed_in(client, workspace, R.EDITOR)
    first, second = SandboxAccountFactory.create_batch(2, workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[first, second], approval=A.APPROVED)
    client.post(
        reverse("admin:posts_post_change", args=[post.pk]),
        change_data(post, accounts=[first.pk]),
    )
    assert approval_of(post) == A.IN_REVIEW


@time_machine.travel(NOW, tick=False)
def test_the_overdue_filter_lists_exactly_the_posts_overdue_for_approval(client, workspace):
    signed_in(client, workspace, R.APPROVER)
    overdue = PostFactory(workspace=workspace, approval=A.IN_REVIEW, texts=["overdue one"])
    PublishJobFactory(post=overdue, due_at=NOW - timedelta(minutes=5))
    approved = PostFactory(workspace=workspace, approval=A.APPROVED, texts=["approved one"])
    PublishJobFactory(post=approved, due_at=NOW - timedelta(minutes=5))
    future = PostFactory(workspace=workspace, approval=A.IN_REVIEW, texts=["future one"])
    PublishJobFactory(post=future, due_at=NOW + timedelta(hours=1))
    missed = PostFactory(workspace=workspace, approval=A.IN_REVIEW, texts=["missed one"])
    PublishJobFactory(post=missed, due_at=NOW - timedelta(hours=7), status=S.MISSED)
    response = client.get(reverse("admin:posts_post_changelist"), {"approval": "overdue"})
    assert list(response.context["cl"].result_list) == [overdue]
    assert "In review · overdue for approval" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_publish_now_on_a_post_waiting_for_approval_says_it_waits(client, workspace):
    signed_in(client, workspace, R.EDITOR)
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account], approval=A.IN_REVIEW)
    response = client.post(
        reverse("admin:posts_post_changelist"),
        {"action": "publish_now", "_selected_action": [post.pk]},
        follow=True,
    )
    assert "waiting for approval: it goes out once approved" in response.content.decode()
