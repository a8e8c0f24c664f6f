"""Approval through the API: the post page's transitions, checked by the same services,
and an edit of an approved post sending it back to review, as in the admin."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership
from posts.models import Post
from tests.api.conftest import key_client
from tests.factories import MembershipFactory, PostFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db

R = Membership.Role


@pytest.fixture
def team():
    editor = MembershipFactory(role=R.EDITOR, workspace__posts_need_approval=True)
    workspace = editor.workspace
    approver = MembershipFactory(role=R.APPROVER, workspace=workspace)
    account = SandboxAccountFactory(workspace=workspace)
    post = PostFactory(workspace=workspace, accounts=[account], author=editor.user)
    return {"editor": editor.user, "approver": approver.user, "post": post, "workspace": workspace}


def as_(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_editor_asks_and_an_approver_decides(team):
    post = team["post"]
    asked = as_(team["editor"]).post(f"/api/v1/posts/{post.pk}/review-request/")
    assert asked.status_code == 200, asked.json()
    assert asked.json()["post"]["approval"] == "in_review"
    # An editor may not decide.
    refused = as_(team["editor"]).post(f"/api/v1/posts/{post.pk}/approve/")
    assert refused.status_code == 403

    approved = as_(team["approver"]).post(f"/api/v1/posts/{post.pk}/approve/")
    assert approved.status_code == 200, approved.json()
    post.refresh_from_db()
    assert post.approval == Post.Approval.APPROVED


def test_changes_are_requested_with_a_comment_or_not_at_all(team):
    post = team["post"]
    as_(team["editor"]).post(f"/api/v1/posts/{post.pk}/review-request/")
    url = f"/api/v1/posts/{post.pk}/request-changes/"
    assert as_(team["approver"]).post(url, {}, format="json").status_code == 400
    answer = as_(team["approver"]).post(url, {"comment": "Shorter, please."}, format="json")
    assert answer.status_code == 200, answer.json()
    post.refresh_from_db()
    assert post.approval == Post.Approval.CHANGES_REQUESTED


def test_a_key_never_approves(team):
    post = team["post"]
    as_(team["editor"]).post(f"/api/v1/posts/{post.pk}/review-request/")
    client = key_client(team["workspace"], "read", "write", "publish", "admin")
    assert client.post(f"/api/v1/posts/{post.pk}/approve/").status_code == 403
    post.refresh_from_db()
    assert post.approval == Post.Approval.IN_REVIEW


def test_editing_an_approved_posts_text_sends_it_back_to_review(team):
    post = team["post"]
    Post.objects.filter(pk=post.pk).update(approval=Post.Approval.APPROVED)

    priority = as_(team["editor"]).patch(
        f"/api/v1/posts/{post.pk}/", {"priority": 3}, format="json"
    )
    assert priority.status_code == 200, priority.json()
    assert priority.json()["approval"] == "approved"  # not content: stays approved

    edited = as_(team["editor"]).patch(
        f"/api/v1/posts/{post.pk}/", {"parts": [{"text": "Something else."}]}, format="json"
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["approval"] == "in_review"
