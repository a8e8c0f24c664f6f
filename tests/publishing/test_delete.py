"""Deleting a published post from its network: sandbox and X (over HTTP, the fake X),
as a service, an admin action and an API endpoint."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.services import social_account_connect
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from publishing.models import SandboxPost
from publishing.services import PostNotDeleted, job_delete_published
from tests.factories import MembershipFactory, PostFactory, PublishJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


@pytest.fixture
def x_account(x, member):
    user = x.control.create_connected_user(username="kairos_brand")
    return social_account_connect(
        network="x",
        workspace=member.workspace,
        external_id=user.id,
        handle="kairos_brand",
        credentials={"access_token": user.access_token},
    )


def published(account=None, *, texts=("Hello",), **kwargs):
    post_kwargs = {"workspace": account.workspace} if account else kwargs
    post = PostFactory(texts=list(texts), **post_kwargs)
    job = PublishJobFactory(post=post, status=S.QUEUED, **({"account": account} if account else {}))
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    return job


def live_ids(x, account):
    return [post["id"] for post in x.control.posts(user_id=account.external_id)]


def test_a_sandbox_thread_is_deleted_and_the_job_says_so(member):
    job = published(texts=["1/2", "2/2"], workspace=member.workspace)

    job_delete_published(job=job, actor=member.user)

    assert not SandboxPost.objects.filter(pk__in=job.part_external_ids).exists()
    job.refresh_from_db()
    assert job.status == S.PUBLISHED
    assert job.error_message.startswith(f"Deleted from Sandbox by {member.user} on ")
    event = AuditEvent.objects.get(action="job.post_deleted")
    assert (event.actor, event.data["deleted"]) == (member.user, job.part_external_ids[::-1])


def test_an_x_thread_is_deleted_last_part_first(x, x_account):
    job = published(x_account, texts=["1/3", "2/3", "3/3"])
    first, *_ = job.part_external_ids
    # X refuses to delete the first part: only the parts after it may be gone.
    x.control.add_fault("status", status=503, method="DELETE", path_prefix=f"/2/tweets/{first}")

    with pytest.raises(PostNotDeleted) as refused:
        job_delete_published(job=job, actor=None)

    assert live_ids(x, x_account) == [first]
    assert refused.value.message.startswith("X did not delete the post (X answered 503")
    assert refused.value.message.endswith("2 of its 3 part(s) are deleted; try again to finish.")
    assert AuditEvent.objects.get(action="job.post_delete_failed").data["kept"] == [first]

    # Asking again finishes: the parts already gone count as deleted.
    job_delete_published(job=job, actor=None)
    assert live_ids(x, x_account) == []
    job.refresh_from_db()
    assert (job.metrics_due_at, job.error_message[:15]) == (None, "Deleted from X ")


def test_only_a_published_job_has_a_post_to_delete(member):
    job = PublishJobFactory(post__workspace=member.workspace, status=S.FAILED)
    with pytest.raises(ValidationError) as refused:
        job_delete_published(job=job, actor=member.user)
    assert refused.value.messages == [
        f"Job {job.pk} is failed; only a published post can be deleted from its network."
    ]


def test_the_admin_action(client, member):
    member.user.is_superuser = True
    member.user.save()
    job = published(workspace=member.workspace)
    waiting = PublishJobFactory(post__workspace=member.workspace, status=S.PENDING)

    response = client.post(
        reverse("admin:publishing_publishjob_changelist"),
        {"action": "delete_from_network", "_selected_action": [job.pk, waiting.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert f"Job {job.pk}: the post is deleted from Sandbox." in page
    assert f"Job {waiting.pk} is pending; only a published post can be deleted" in page
    assert not SandboxPost.objects.exists()


def test_the_api_deletes_and_answers_204(client, x, x_account):
    job = published(x_account)

    response = client.delete(f"/api/v1/jobs/{job.pk}/post/")

    assert response.status_code == 204
    assert live_ids(x, x_account) == []


def test_the_api_says_what_went_wrong(client, x, x_account):
    job = published(x_account)
    waiting = PublishJobFactory(post__workspace=x_account.workspace, status=S.PENDING)
    foreign = published(texts=["Not yours"])
    x.control.add_fault("status", status=503, method="DELETE")

    assert client.delete(f"/api/v1/jobs/{foreign.pk}/post/").status_code == 404
    conflict = client.delete(f"/api/v1/jobs/{waiting.pk}/post/")
    assert (conflict.status_code, conflict.json()["detail"]) == (
        409,
        f"Job {waiting.pk} is pending; only a published post can be deleted from its network.",
    )
    refused = client.delete(f"/api/v1/jobs/{job.pk}/post/")
    assert refused.status_code == 502
    assert "try again to finish" in refused.json()["detail"]
