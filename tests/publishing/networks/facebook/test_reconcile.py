"""Facebook jobs end to end through job_execute, with the Page in the database: a post goes
out, a dropped answer is settled by reconciliation into exactly one post, and a token
Meta refuses makes the job wait for reconnecting."""

import pytest

from accounts.services import social_account_connect
from publishing.execution import job_execute, job_reconcile
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob
from tests.factories import PostFactory, PublishJobFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored_account(meta, scene):
    return social_account_connect(
        network="facebook",
        workspace=WorkspaceFactory(),
        external_id=scene.page_id,
        handle="Kairos Bakery",
        credentials={"access_token": scene.page_token, "page_id": scene.page_id},
    )


def job_for(account, text):
    post = PostFactory(workspace=account.workspace, texts=[text])
    return PublishJobFactory(post=post, account=account, status=S.QUEUED)


def test_a_post_is_published_with_its_id_and_link(meta, scene, stored_account):
    job = job_for(stored_account, "Fresh bread")

    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    [post] = meta.control.graph_posts(owner_id=scene.page_id)
    assert (job.external_id, job.external_url) == (
        post["id"],
        f"https://www.facebook.com/{post['id']}",
    )


def test_a_dropped_answer_is_reconciled_into_one_published_post(meta, scene, stored_account):
    job = job_for(stored_account, "Exactly once")
    meta.control.add_fault("accept_then_drop", method="POST")
    assert job_execute(job_id=job.pk) == S.RUNNING
    PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)

    assert job_reconcile(job_id=job.pk, token=job.claim_token + 2) == S.PUBLISHED
    job.refresh_from_db()
    assert meta.control.posts_created(scene.page_id, "Exactly once") == 1
    assert job.attempts.get().outcome == PublishAttempt.Outcome.SUCCESS


def test_an_expired_token_makes_the_job_wait_for_reconnecting(meta, scene, stored_account):
    job = job_for(stored_account, "Waits")
    meta.control.expire_tokens(scene.user_id)

    job_execute(job_id=job.pk)

    stored_account.refresh_from_db()
    job.refresh_from_db()
    assert stored_account.status == stored_account.Status.NEEDS_REAUTH
    assert job.status != S.FAILED
    assert meta.control.posts_created(scene.page_id, "Waits") == 0
