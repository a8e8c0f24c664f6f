"""Ask the network again whether needs-review jobs went out
(`publishing.review.job_reconcile_again`): found → published with its link, surely
absent → pending (it goes out again), no answer → still needs review.

Exit status: 0 every job chosen was settled (published or pending); 1 some still need
a person (no answer, or the job had moved on); 2 no such job or account.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from publishing.management.jobs_chosen import job_arguments_add, jobs_chosen
from publishing.models import JobStatus, PublishJob
from publishing.review import job_reconcile_again

SETTLED = (JobStatus.PUBLISHED, JobStatus.PENDING)


class Command(BaseCommand):
    help = (
        "Ask the network once more whether needs-review jobs went out: by id, or every "
        "needs-review job of an account. Found: published; surely absent: sent again; no "
        "answer: left in review."
    )

    def add_arguments(self, parser):
        job_arguments_add(parser, statuses=(JobStatus.NEEDS_REVIEW,))

    def handle(self, *args, dry_run: bool, no_progress: bool, **options):
        jobs = jobs_chosen(options=options)
        if dry_run:
            for job in jobs:
                self.stdout.write(f"would ask {job.account} about job {job.pk} ({job.status})")
            self.stdout.write(f"Dry run: {len(jobs)} jobs would be reconciled; nothing changed.")
            return
        unsettled = 0
        for job in tqdm(jobs, desc="jobs", unit="job", file=sys.stderr, disable=no_progress):
            outcome = job_reconcile_again(job=job, actor=None)
            if not outcome:
                unsettled += 1
                status = PublishJob.objects.values_list("status", flat=True).get(pk=job.pk)
                self.stderr.write(f"job {job.pk} is {status}, not in review; left alone.")
                continue
            job.refresh_from_db(
                fields=["status", "external_url", "error_message", "next_attempt_at"]
            )
            if job.status == JobStatus.PUBLISHED:
                self.stdout.write(f"job {job.pk}: found on the network: {job.external_url}")
            elif job.status == JobStatus.PENDING:
                self.stdout.write(
                    f"job {job.pk}: not on the network; it goes out again at "
                    f"{job.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
                )
            else:
                unsettled += 1
                self.stdout.write(f"job {job.pk}: still {job.status}: {job.error_message}")
        self.stdout.write(f"Settled {len(jobs) - unsettled} of {len(jobs)} jobs.")
        if unsettled:
            raise CommandError(f"{unsettled} jobs were not settled (above).", returncode=1)
