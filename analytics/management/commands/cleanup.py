"""Delete rows past their retention: attempts, finished jobs, audit events, sandbox
posts and metric snapshots older than their KAIROS_RETENTION_*_DAYS, and idempotency
answers past their 24 hours.

What stays although old, and why deleting in batches is safe while Kairos runs, is
written in analytics/retention.py. Beat runs the same deletion once a day; this
command is for a first clean-up, a different age, or a look first (--dry-run).
Exit status: 0 done, 1 failed (what was deleted before stays deleted; run again).
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone
from tqdm import tqdm

from analytics.retention import KINDS, retention_counts, retention_purge


class Command(BaseCommand):
    help = (
        "Delete attempts, finished jobs, audit events, sandbox posts and metric snapshots "
        "older than their KAIROS_RETENTION_*_DAYS, and idempotency answers past their 24 "
        "hours, in short batches; never what a live job, an unfinished post or "
        "reconciliation still needs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows deleted per transaction (default 500): smaller holds locks shorter.",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (for logs and cron)."
        )

    def handle(self, *args, dry_run: bool, batch_size: int, no_progress: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        now = timezone.now()
        ages = {kind.name: kind.age_label() for kind in KINDS}
        if dry_run:
            for name, count in retention_counts(now=now).items():
                self.stdout.write(f"would delete {count} {name} older than {ages[name]}")
            self.stdout.write("Dry run: nothing was deleted.")
            return
        deleted: dict[str, int] = dict.fromkeys(ages, 0)
        bar: tqdm | None = None
        kind = ""
        try:
            for progress in retention_purge(now=now, batch_size=batch_size):
                if progress.kind != kind:
                    # One kind at a time: the finished bar stays on screen above the next.
                    if bar is not None:
                        bar.close()
                    kind = progress.kind
                    bar = tqdm(
                        total=progress.total,
                        desc=kind,
                        unit="row",
                        file=sys.stderr,
                        disable=no_progress,
                    )
                bar.update(progress.deleted - deleted[progress.kind])
                deleted[progress.kind] = progress.deleted
        except DatabaseError as exc:
            raise CommandError(
                f"The database refused a deletion ({exc}). Batches before it are deleted; "
                "run the command again once the database answers."
            ) from exc
        finally:
            if bar is not None:
                bar.close()
        for name, count in deleted.items():
            self.stdout.write(f"deleted {count} {name} older than {ages[name]}")
        self.stdout.write(self.style.SUCCESS("Clean-up done."))
