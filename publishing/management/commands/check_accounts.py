"""Check connected accounts: status, sign-in expiry, spent rate-limit windows, and one
harmless call to each network (publishing/account_checks.py).

Exit status: 0 no account needs attention; 1 some do (listed, and in --json);
2 no such workspace.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from accounts.models import SocialAccount
from publishing.account_checks import social_account_check


class Command(BaseCommand):
    help = (
        "Check every connected account (or one workspace's): status, sign-in expiry, "
        "rate-limit state, and one harmless call to its network (its profile). Exits 1 "
        "when any account needs attention."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="Only this workspace's accounts (its slug).")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="One JSON document on stdout."
        )
        parser.add_argument(
            "--no-call", action="store_true", help="Read what Kairos knows; call no network."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (for logs and cron)."
        )

    def handle(self, *args, workspace, as_json: bool, no_call: bool, no_progress: bool, **options):
        accounts = SocialAccount.objects.select_related("workspace").order_by("workspace", "pk")
        if workspace:
            accounts = accounts.filter(workspace__slug=workspace)
            if not accounts.exists():
                raise CommandError(f"No accounts in workspace {workspace}.", returncode=2)
        now = timezone.now()
        checks = [
            social_account_check(account=account, now=now, call=not no_call)
            for account in tqdm(
                accounts, desc="accounts", unit="account", file=sys.stderr, disable=no_progress
            )
        ]
        attention = [check for check in checks if check.needs_attention]
        if as_json:
            self.stdout.write(_dumps([check.as_json() for check in checks]))
        else:
            for check in checks:
                self._line(check)
            self.stdout.write(f"{len(checks)} accounts checked; {len(attention)} need attention.")
        if attention:
            raise CommandError(f"{len(attention)} accounts need attention.", returncode=1)

    def _line(self, check) -> None:
        account = check.account
        expires = (
            f", sign-in until {account.token_expires_at:%Y-%m-%d %H:%M} UTC"
            if account.token_expires_at
            else ""
        )
        limited = "".join(
            f", {endpoint} rate-limited until {until:%H:%M:%S} UTC"
            for endpoint, until in check.rate_limited.items()
        )
        state = "NEEDS ATTENTION" if check.needs_attention else "ok"
        self.stdout.write(
            f"{state}: {account} in {account.workspace.slug}: {account.get_status_display()}"
            f"{expires}{limited}; {check.call}"
        )
        for problem in check.problems:
            self.stdout.write(f"  - {problem}")


def _dumps(value) -> str:
    return json.dumps({"accounts": value}, indent=2)
