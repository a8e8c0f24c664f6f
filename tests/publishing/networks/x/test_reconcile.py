"""An answer X dropped after making the post, settled by reconciliation into one post."""

import pytest

from publishing.execution import job_execute, job_reconcile
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob
from tests.factories import PostFactory, PublishJobFactory

pytestmark = pytest.mark.django_db


def test_a_dropped_answer_is_reconciled_into_one_published_post(x, account):
    post = PostFactory(workspace=account.workspace, texts=["Exactly once"])
    job = PublishJobFactory(post=post, account=account, status=S.QUEUED)
    x.control.add_fault("accept_then_drop", method="POST", path_prefix="/2/tweets")
    assert job_execute(job_id=job.pk) == S.RUNNING
    PublishJob.objects.filter(pk=job.pk).update(claim_token=job.claim_token + 2)
    assert job_reconcile(job_id=job.pk, token=job.claim_token + 2) == S.PUBLISHED
    job.refresh_from_db()
    assert job.status == S.PUBLISHED
    assert x.control.posts_created(account.external_id, "Exactly once") == 1
    assert job.attempts.get().outcome == PublishAttempt.Outcome.SUCCESS
