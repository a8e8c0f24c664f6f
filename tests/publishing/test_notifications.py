import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Membership, Notification
from accounts.services import audit_record, social_account_needs_reauth
from posts.models import Post
from publishing.events import events_fan_out
from publishing.notifications import (
    notification_preferences_set,
    notifications_email,
    notifications_mark_read,
    notifications_unread_count,
)
from tests.factories import MembershipFactory, PostFactory, PublishJobFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db
R = Membership.Role


@pytest.fixture
def team():
    workspace = WorkspaceFactory()
    return {
        role: MembershipFactory(workspace=workspace, role=role).user
        for role in (R.OWNER, R.EDITOR, R.APPROVER, R.VIEWER)
    } | {"workspace": workspace}


def fail_post(job) -> None:
    """What the roll-up records when a post's jobs failed."""
    Post.objects.filter(pk=job.post_id).update(status=Post.Status.FAILED)
    job.__class__.objects.filter(pk=job.pk).update(status="failed")
    audit_record(
        workspace=job.post.workspace,
        actor=None,
        action="post.status_changed",
        subject=job.post,
        from_status="publishing",
        to_status="failed",
    )


def test_a_burst_of_failures_on_one_account_is_one_notification_per_member(team):
    first = PublishJobFactory(post__workspace=team["workspace"])
    for _ in range(5):
        job = PublishJobFactory(post__workspace=team["workspace"], account=first.account)
        fail_post(job)
    events_fan_out()

    notices = Notification.objects.filter(kind="post.failed")
    assert {n.recipient for n in notices} == {team[R.OWNER], team[R.EDITOR], team[R.APPROVER]}
    assert {n.count for n in notices} == {5}
    editors = notices.get(recipient=team[R.EDITOR])
    assert editors.title == f"A post failed on @{first.account.handle} (Sandbox)"
    assert editors.link == f"/admin/posts/post/{job.post_id}/change/"
    assert notifications_unread_count(user=team[R.EDITOR]) == 1

    # Once read, the next failure starts a new burst.
    notifications_mark_read(user=team[R.EDITOR], notification_ids=None, now=timezone.now())
    fail_post(PublishJobFactory(post__workspace=team["workspace"], account=first.account))
    events_fan_out()
    assert Notification.objects.filter(recipient=team[R.EDITOR]).count() == 2
    assert notifications_unread_count(user=team[R.EDITOR]) == 1


def test_other_accounts_make_their_own_notification(team):
    fail_post(PublishJobFactory(post__workspace=team["workspace"]))
    fail_post(PublishJobFactory(post__workspace=team["workspace"]))
    events_fan_out()
    assert Notification.objects.filter(recipient=team[R.EDITOR]).count() == 2


def test_an_account_needing_reconnection_tells_the_owners(team):
    job = PublishJobFactory(post__workspace=team["workspace"])
    social_account_needs_reauth(account=job.account, reason="revoked")
    events_fan_out()
    [notice] = Notification.objects.all()
    assert notice.recipient == team[R.OWNER]
    assert notice.link == f"/admin/accounts/socialaccount/{job.account_id}/change/"


def test_approval_asked_goes_to_approvers_but_not_the_asker_and_the_decision_to_the_author(team):
    post = PostFactory(workspace=team["workspace"], author=team[R.EDITOR])
    audit_record(
        workspace=post.workspace, actor=team[R.OWNER], action="post.review_requested", subject=post
    )
    audit_record(
        workspace=post.workspace, actor=team[R.APPROVER], action="post.approved", subject=post
    )
    events_fan_out()
    assert {(n.kind, n.recipient) for n in Notification.objects.all()} == {
        ("post.review_requested", team[R.APPROVER]),
        ("post.approved", team[R.EDITOR]),
    }


def test_e_mail_goes_once_per_burst_to_who_wants_it(team, django_capture_on_commit_callbacks):
    notification_preferences_set(
        user=team[R.APPROVER], kind="post.failed", in_admin=True, by_email=False
    )
    notification_preferences_set(
        user=team[R.OWNER], kind="post.failed", in_admin=False, by_email=True
    )
    first = PublishJobFactory(post__workspace=team["workspace"])
    for job in (first, PublishJobFactory(post__workspace=team["workspace"], account=first.account)):
        with django_capture_on_commit_callbacks(execute=True):
            fail_post(job)
            events_fan_out()

    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [team[R.OWNER].email, team[R.EDITOR].email]
    )
    assert f"/admin/posts/post/{first.post_id}/change/" in mail.outbox[0].body
    # Switched off in the admin: not counted in the header.
    assert notifications_unread_count(user=team[R.OWNER]) == 0
    assert notifications_unread_count(user=team[R.APPROVER]) == 1
    assert notifications_email([]) == 0


def test_an_event_whose_subject_is_gone_is_taken_without_notifying(team):
    job = PublishJobFactory(post__workspace=team["workspace"])
    audit_record(
        workspace=team["workspace"],
        actor=None,
        action="job.missed",
        subject=job,
        to_status="missed",
    )
    job.delete()
    social_account_needs_reauth(
        account=PublishJobFactory(post__workspace=team["workspace"]).account, reason="x"
    )

    events_fan_out()

    assert list(Notification.objects.values_list("kind", flat=True)) == ["account.needs_reauth"]
