"""Send failed, missed or needs-review jobs again: the admin's *Retry*
(`publishing.services.job_retry`), for one job or every such job of an account.

Exit status: 0 every job chosen is pending again (or, with --dry-run, would be);
1 some job had moved on (it is named); 2 no such job or account.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from publishing.management.jobs_chosen import job_arguments_add, jobs_chosen
from publishing.models import JobStatus
from publishing.services import job_retry

RETRYABLE = (JobStatus.NEEDS_REVIEW, JobStatus.FAILED, JobStatus.MISSED)


class Command(BaseCommand):
    help = (
        "Send publish jobs again (failed, missed or needs review) as the admin's Retry does: "
        "by id, or every job of an account in one status. Check a needs-review job's "
        "account first: if the post is there, `reconcile` or mark it published instead."
    )

    def add_arguments(self, parser):
        job_arguments_add(parser, statuses=RETRYABLE)

    def handle(self, *args, dry_run: bool, no_progress: bool, **options):
        jobs = jobs_chosen(options=options)
        if dry_run:
            for job in jobs:
                self.stdout.write(f"would requeue job {job.pk} ({job.status}) to {job.account}")
            self.stdout.write(f"Dry run: {len(jobs)} jobs would be sent again; nothing changed.")
            return
        left = []
        for job in tqdm(jobs, desc="jobs", unit="job", file=sys.stderr, disable=no_progress):
            if job_retry(job=job, actor=None):
                self.stdout.write(f"job {job.pk}: pending again; it goes out at the next tick")
            else:
                left.append(job)
        for job in left:
            job.refresh_from_db(fields=["status"])
            self.stderr.write(
                f"job {job.pk} is {job.status}: only failed, missed or needs-review jobs are "
                "sent again; left alone."
            )
        self.stdout.write(f"Requeued {len(jobs) - len(left)} of {len(jobs)} jobs.")
        if left:
            raise CommandError(f"{len(left)} jobs were left alone (above).", returncode=1)
