"""Jobs a person must look at (needs review), handled from a terminal: asked about
again, or sent again. The admin's *Retry* is `services.job_retry`; asking the network
again is reconciliation's own look-up (`execution.job_reconcile`), run once more.

Locking rules: asking again takes the job needs_review → running by compare-and-set,
raising its claim token and giving it a running lease, exactly as the tick's
`jobs_recover` takes a job whose lease ran out. The look-up then settles it with that
token, so a person retrying or cancelling it meanwhile (which the compare-and-set
excludes while it runs) or a second `reconcile` cannot both win. If the process dies
mid-look-up, the lease runs out and the tick reconciles the job again, as any
interrupted one.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import SocialAccount
from accounts.services import audit_record
from publishing.execution import RECONCILE_TRIES, job_reconcile
from publishing.metrics import reconciliation_observe
from publishing.models import JobStatus, PublishJob
from publishing.states import job_transition


def jobs_in_review(*, account: SocialAccount) -> QuerySet[PublishJob]:
    return (
        PublishJob.objects.filter(account=account, status=JobStatus.NEEDS_REVIEW)
        .select_related("post__workspace", "account")
        .order_by("due_at", "pk")
    )


def job_reconcile_again(*, job: PublishJob, actor=None, now: datetime | None = None) -> str:
    """Ask the network once more whether a job in review went out.

    Returns what the job became: `published` (found), `pending` (surely absent: it
    goes out again), `needs_review` (still no answer) or "" when the job was no
    longer in review. One look-up: no answer returns it to review at once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk],
            from_statuses=(JobStatus.NEEDS_REVIEW,),
            to_status=JobStatus.RUNNING,
            now=now,
            claim_token=F("claim_token") + 1,
            lease_expires_at=now + settings.KAIROS_RUNNING_LEASE,
            reconcile_count=RECONCILE_TRIES - 1,
        )
        if not moved:
            return ""
        token = PublishJob.objects.values_list("claim_token", flat=True).get(pk=job.pk)
        audit_record(
            workspace=job.post.workspace,
            actor=actor,
            action="job.reconcile_requested",
            subject=job,
            from_status=JobStatus.NEEDS_REVIEW,
            to_status=JobStatus.RUNNING,
        )
    outcome = job_reconcile(job_id=job.pk, token=token)
    reconciliation_observe(outcome=outcome)
    return outcome
