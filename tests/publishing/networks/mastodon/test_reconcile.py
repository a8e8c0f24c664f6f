"""Mastodon jobs end to end through job_execute, with an account in the database: a post
goes out, and an answer the instance dropped after making the post is settled by
reconciliation into exactly one post."""

import pytest

from publishing.execution import job_execute, job_reconcile
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob
from tests.factories import PostFactory, PublishJobFactory

pytestmark = pytest.mark.django_db


def job_for(account, *texts):
    post = PostFactory(workspace=account.workspace, texts=list(texts))
    return PublishJobFactory(post=post, account=account, status=S.QUEUED)


def test_a_thread_is_published_with_its_ids_and_link(mastodon, stored_account):
    job = job_for(stored_account, "1/2", "2/2")
    assert job_execute(job_id=job.pk) == S.PUBLISHED
    job.refresh_from_db()
    statuses = mastodon.control.statuses(account_id=stored_account.external_id)
    assert [status["text"] for status in statuses] == ["1/2", "2/2"]
    assert job.external_id == statuses[0]["id"]
    assert job.external_url == f"{mastodon.url}/@kairos_brand/{statuses[0]['id']}"


def test_a_dropped_answer_is_reconciled_into_one_published_post(mastodon, stored_account):
    job = job_for(stored_account, "Exactly once")
    mastodon.control.add_fault("accept_then_drop", method="POST", path_prefix="/api/v1/statuses")
    assert job_execute(job_id=job.pk) == S.RUNNING
    PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)
    assert job_reconcile(job_id=job.pk, token=job.claim_token + 2) == S.PUBLISHED
    job.refresh_from_db()
    assert job.status == S.PUBLISHED
    assert mastodon.control.statuses_created(stored_account.external_id, "Exactly once") == 1
    assert job.attempts.get().outcome == PublishAttempt.Outcome.SUCCESS


def test_a_revoked_sign_in_makes_the_job_wait_for_reconnecting(mastodon, stored_account):
    job = job_for(stored_account, "Waits")
    mastodon.control.revoke_tokens(stored_account.external_id)
    job_execute(job_id=job.pk)
    stored_account.refresh_from_db()
    job.refresh_from_db()
    assert stored_account.status == stored_account.Status.NEEDS_REAUTH
    assert job.status != S.FAILED
    assert mastodon.control.statuses_created(stored_account.external_id, "Waits") == 0
