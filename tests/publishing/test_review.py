"""requeue and reconcile: needs-review (and failed, missed) jobs handled from a
terminal, through job_retry and reconciliation's own look-up."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import AuditEvent
from posts.models import Post
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob, SandboxPost
from publishing.networks.sandbox.adapter import SandboxAdapter
from publishing.review import job_reconcile_again
from publishing.services import publish_request_build
from publishing.stores import DatabaseStore
from tests.factories import PublishJobFactory, SandboxAccountFactory

pytestmark = pytest.mark.django_db


def in_review(account=None) -> PublishJob:
    """A job reconciliation gave up on: running, cut short, no answer from the network."""
    extra = {"account": account, "post__workspace": account.workspace} if account else {}
    job = PublishJobFactory(status=S.NEEDS_REVIEW, attempt_count=1, reconcile_count=3, **extra)
    PublishAttempt.objects.create(
        job=job,
        number=1,
        started_at=timezone.now() - timedelta(minutes=5),
        finished_at=timezone.now() - timedelta(minutes=4),
        outcome=PublishAttempt.Outcome.UNCERTAIN,
        error_kind="network",
        error_message="The connection dropped after sending.",
    )
    Post.objects.filter(pk=job.post_id).update(status=Post.Status.NEEDS_REVIEW)
    return job


def went_out(job: PublishJob) -> None:
    SandboxAdapter().publish(
        publish_request_build(job=job),
        store=DatabaseStore(network="sandbox"),
        on_part_published=lambda *a: None,
    )


def _run(command: str, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(command, "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _refused(command: str, *args) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(command, "--no-progress", *args, stdout=out, stderr=err)
    return raised.value.returncode, out.getvalue(), str(raised.value) + err.getvalue()


def test_asking_again_publishes_a_job_whose_post_is_on_the_network():
    job = in_review()
    went_out(job)

    assert job_reconcile_again(job=job) == S.PUBLISHED

    job.refresh_from_db()
    assert job.status == S.PUBLISHED and job.external_url
    assert job.post.__class__.objects.get(pk=job.post_id).status == Post.Status.PUBLISHED
    assert SandboxPost.objects.count() == 1
    assert AuditEvent.objects.filter(action="job.reconcile_requested", subject_id=job.pk).exists()


def test_asking_again_sends_a_job_again_when_the_post_is_surely_absent():
    job = in_review()

    assert job_reconcile_again(job=job) == S.PENDING

    job.refresh_from_db()
    assert job.status == S.PENDING  # after the backoff of its (retryable) network error
    assert job.next_attempt_at > timezone.now()


def test_asking_again_leaves_a_job_that_left_review_alone():
    job = in_review()
    PublishJob.objects.filter(pk=job.pk).update(status=S.CANCELLED)

    assert job_reconcile_again(job=job) == ""
    job.refresh_from_db()
    assert job.status == S.CANCELLED


def test_reconcile_command_by_account_says_what_each_job_became():
    account = SandboxAccountFactory()
    found, absent = in_review(account), in_review(account)
    other = in_review()
    went_out(found)

    out, _ = _run("reconcile", "--account", f"sandbox:@{account.handle}")

    assert f"job {found.pk}: found on the network: http" in out
    assert f"job {absent.pk}: not on the network; it goes out again" in out
    assert "Settled 2 of 2 jobs." in out
    assert PublishJob.objects.get(pk=other.pk).status == S.NEEDS_REVIEW


def test_reconcile_dry_run_changes_nothing():
    job = in_review()

    out, _ = _run("reconcile", str(job.pk), "--dry-run")

    assert f"would ask {job.account} about job {job.pk} (needs_review)" in out
    assert PublishJob.objects.get(pk=job.pk).status == S.NEEDS_REVIEW


def test_reconcile_exits_1_for_a_job_not_in_review():
    job = PublishJobFactory(status=S.PUBLISHED)

    code, _, err = _refused("reconcile", str(job.pk))

    assert code == 1
    assert f"job {job.pk} is published, not in review; left alone." in err


def test_requeue_by_account_sends_its_review_jobs_again_and_only_those():
    account = SandboxAccountFactory()
    first, second = in_review(account), in_review(account)
    failed = PublishJobFactory(status=S.FAILED, account=account, post__workspace=account.workspace)

    out, _ = _run("requeue", "--account", f"@{account.handle}")

    assert "Requeued 2 of 2 jobs." in out
    statuses = dict(PublishJob.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == S.PENDING
    assert statuses[failed.pk] == S.FAILED
    assert AuditEvent.objects.filter(action="job.retried").count() == 2

    _run("requeue", "--account", str(account.pk), "--status", "failed")
    assert PublishJob.objects.get(pk=failed.pk).status == S.PENDING


def test_requeue_dry_run_and_usage_errors():
    job = in_review()

    out, _ = _run("requeue", str(job.pk), "--dry-run")
    assert "Dry run: 1 jobs would be sent again; nothing changed." in out
    assert PublishJob.objects.get(pk=job.pk).status == S.NEEDS_REVIEW

    code, _, err = _refused("requeue", "999999")
    assert code == 2 and "No publish job 999999" in err
    code, _, err = _refused("requeue", "--account", "@nobody")
    assert code == 2 and "No account @nobody." in err
    code, _, err = _refused("requeue")
    assert code == 2 and "Give job ids or --account" in err


def test_requeue_exits_1_for_a_job_that_cannot_be_sent_again():
    job = PublishJobFactory(status=S.PUBLISHED)

    code, _, err = _refused("requeue", str(job.pk))

    assert code == 1
    assert f"job {job.pk} is published: only failed, missed or needs-review jobs" in err
