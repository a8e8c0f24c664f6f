"""Send a test post to one account and print its link (publishing/trial_post.py).

The sandbox is posted to for real. A real network is only checked (--dry-run) unless
--send-to-real-network says to post there for everyone to see.

Exit status: 0 published (or, with --dry-run, the post would pass); 1 refused,
failed or not out within --wait; 2 no such account, or a real network without
--dry-run or --send-to-real-network.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import SocialAccount
from publishing.management.jobs_chosen import USAGE, account_find
from publishing.models import JobStatus
from publishing.trial_post import trial_post_problems, trial_post_send, trial_text


class Command(BaseCommand):
    help = (
        "Publish a test post to ACCOUNT (its id, network:@handle or @handle) and print its "
        "link. The sandbox is posted to; a real network is only checked with --dry-run, "
        "and posted to only with --send-to-real-network."
    )

    def add_arguments(self, parser):
        parser.add_argument("account", help="The account: id, network:@handle or @handle.")
        parser.add_argument(
            "--workspace", help="Slug of its workspace, if the handle is in several."
        )
        parser.add_argument(
            "--text", help="The post's text (default: “Kairos test post, <time>…”)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the post as the composer does (text, account state); send nothing.",
        )
        parser.add_argument(
            "--send-to-real-network",
            action="store_true",
            help="Really post on a network other than the sandbox, visible to everyone.",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=60,
            help="Seconds to wait for the outcome when a worker took the job (default 60).",
        )

    def handle(
        self, *args, account, workspace, text, dry_run, send_to_real_network, wait, **options
    ):
        target = account_find(spec=account, workspace=workspace)
        text = text or trial_text(now=timezone.now())
        real = target.network != SocialAccount.Network.SANDBOX
        if dry_run:
            problems = trial_post_problems(account=target, text=text)
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                raise CommandError(f"The test post to {target} would be refused.", returncode=1)
            self.stdout.write(f"Dry run: “{text}” would go to {target}; nothing was sent.")
            return
        if real and not send_to_real_network:
            raise CommandError(
                f"{target} is on {target.get_network_display()}, a real network: the post would "
                "be public. Check with --dry-run, or post with --send-to-real-network.",
                returncode=USAGE,
            )
        try:
            job = trial_post_send(account=target, text=text, wait=timedelta(seconds=wait))
        except ValidationError as refusal:
            raise CommandError(
                f"The test post to {target} was refused, nothing was sent: "
                f"{' '.join(refusal.messages)}",
                returncode=1,
            ) from refusal
        if job.status == JobStatus.PUBLISHED:
            self.stdout.write(self.style.SUCCESS(f"Published to {target}: {job.external_url}"))
            return
        if job.status == JobStatus.PENDING:
            outcome = f"not out yet; tried again at {job.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
        else:
            outcome = job.get_status_display().lower()
        detail = f": {job.error_message}" if job.error_message else ""
        raise CommandError(
            f"The test post to {target} (job {job.pk}) is {outcome}{detail}", returncode=1
        )
