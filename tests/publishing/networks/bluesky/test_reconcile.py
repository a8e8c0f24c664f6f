"""Jobs to Bluesky through publishing.execution, with an account in the database."""

import pytest

from accounts.services import social_account_connect
from publishing.execution import job_execute, job_reconcile
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob
from tests.factories import PostFactory, PublishJobFactory, WorkspaceFactory

from .conftest import signed_in

pytestmark = pytest.mark.django_db

CREATE = "/xrpc/com.atproto.repo.createRecord"
LOOKUP = "/xrpc/com.atproto.repo.getRecord"


@pytest.fixture
def account(bsky):
    user, credentials = signed_in(bsky)
    return social_account_connect(
        network="bluesky",
        workspace=WorkspaceFactory(),
        external_id=user.did,
        handle=user.handle,
        credentials=dict(credentials.values),
        expires_at=credentials.expires_at,
    )


def test_a_job_publishes_a_thread(bsky, account):
    post = PostFactory(workspace=account.workspace, texts=["1/2", "2/2"])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    assert len(job.part_external_ids) == 2
    assert job.external_url.endswith(f"/profile/{account.external_id}/post/{job.external_id}")
    assert bsky.control.posts_created(account.external_id, "2/2") == 1


def test_a_dropped_answer_is_reconciled_into_one_published_post(bsky, account):
    post = PostFactory(workspace=account.workspace, texts=["Exactly once"])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    # The answer is lost, and so is the look-up at the part's key that would settle it
    # at once: the attempt ends uncertain and the job waits for reconciliation.
    bsky.control.add_fault("accept_then_drop", path_prefix=CREATE)
    bsky.control.add_fault("status", status=503, path_prefix=LOOKUP)
    assert job_execute(job_id=job.pk) == S.RUNNING
    PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)
    assert job_reconcile(job_id=job.pk, token=job.claim_token + 2) == S.PUBLISHED
    job.refresh_from_db()
    assert job.status == S.PUBLISHED
    assert bsky.control.posts_created(account.external_id, "Exactly once") == 1
    assert job.attempts.get().outcome == PublishAttempt.Outcome.SUCCESS


def test_a_job_whose_post_never_arrived_is_retried(bsky, account):
    post = PostFactory(workspace=account.workspace, texts=["Second try"])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    bsky.control.add_fault("refuse_before_accept", refuse_mode="503", path_prefix=CREATE)
    bsky.control.add_fault("status", status=503, path_prefix=LOOKUP)
    assert job_execute(job_id=job.pk) == S.RUNNING
    PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)
    assert job_reconcile(job_id=job.pk, token=job.claim_token + 2) == S.PENDING
    assert bsky.control.posts_created(account.external_id, "Second try") == 0
