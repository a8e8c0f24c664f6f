"""How Kairos is doing, for a person at a terminal or a script: `manage.py kairos_status`.

Exit codes, for scripts and monitoring:

  0  ok: Kairos is publishing, and nothing waits for a person.
  1  attention: Kairos is publishing, but jobs need review, jobs are stuck past
     their lease, accounts need reconnecting (or are disabled, or refused for
     billing), or a setting must change soon (LINKEDIN_VERSION or META_GRAPH_VERSION,
     within 60 days of the network retiring that version).
  2  failing: Kairos cannot publish on time: the database or the broker cannot be
     reached, the dispatch tick has stalled, no worker was seen recently, or a due
     job has waited too long without being queued (the checks of /readyz).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django.utils import timezone

from publishing.health import LIST_LIMIT, Check, Status, database_check, status_read
from publishing.models import PublishJob

EXIT_CODES = {"ok": 0, "attention": 1, "failing": 2}


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _job(job: PublishJob) -> dict:
    return {
        "id": job.pk,
        "post": job.post_id,
        "account": str(job.account),
        "status": job.status,
        "due_at": _at(job.due_at),
        "next_attempt_at": _at(job.next_attempt_at),
        "lease_expires_at": _at(job.lease_expires_at),
        "message": job.error_message,
    }


def status_json(status: Status) -> dict:
    return {
        "state": status.state,
        "exit_code": EXIT_CODES[status.state],
        "at": _at(status.now),
        "attention": status.attention,
        "checks": {check.name: check.as_json() for check in status.checks},
        "jobs": status.jobs,
        "backlog": {
            "due_unqueued": status.backlog.count,
            "oldest_due_at": _at(status.backlog.oldest_due_at),
        },
        "next_due_at": _at(status.next_due_at),
        "last_tick_at": next(c for c in status.checks if c.name == "tick").detail.get(
            "last_tick_at"
        ),
        "workers": [{"name": w.name, "seen_at": _at(w.seen_at)} for w in status.workers],
        "late": [_job(job) for job in status.late],
        "stuck": [_job(job) for job in status.stuck],
        "needs_review": [_job(job) for job in status.needs_review],
        "accounts": [
            {
                "id": account.pk,
                "account": str(account),
                "workspace": str(account.workspace),
                "status": account.status,
                "billing_problem": account.billing_problem,
            }
            for account in status.accounts
        ],
    }


class Command(BaseCommand):
    help = (
        "Show whether Kairos is publishing and what needs a person: checks, job counts, "
        "next due, late, stuck and needs-review jobs, accounts needing attention, last "
        "tick, workers seen. Exit code 0: ok; 1: something needs attention; 2: failing "
        "(Kairos cannot publish on time)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON document."
        )

    def handle(self, *args, as_json: bool, **options):
        now = timezone.now()
        try:
            status = status_read(now=now)
        except DatabaseError as error:
            self._database_failing(error=error, as_json=as_json, now=now)
        if as_json:
            self.stdout.write(_dumps(status_json(status)))
        else:
            self._print(status)
        sys.exit(EXIT_CODES[status.state])

    def _database_failing(self, *, error: DatabaseError, as_json: bool, now: datetime) -> None:
        """The database refused the status's queries: unreachable, or not migrated."""
        check = database_check()
        problem = (
            f"the database answers but refused a query ({error}); has `manage.py migrate` run?"
            if check.ok
            else "the database cannot be reached"
        )
        if as_json:
            document = {
                "state": "failing",
                "exit_code": EXIT_CODES["failing"],
                "at": _at(now),
                "attention": [problem],
                "checks": {check.name: check.as_json()},
            }
            self.stdout.write(_dumps(document))
        else:
            self.stdout.write(self.style.ERROR(f"FAILING: {problem}."))
        sys.exit(EXIT_CODES["failing"])

    def _print(self, status: Status) -> None:
        write = self.stdout.write
        headline = {
            "ok": self.style.SUCCESS("OK: publishing, nothing waits for a person."),
            "attention": self.style.WARNING(
                "ATTENTION: publishing, but " + "; ".join(status.attention) + "."
            ),
            "failing": self.style.ERROR(
                "FAILING: "
                + ", ".join(check.name for check in status.failing)
                + " (Kairos cannot publish on time)."
            ),
        }[status.state]
        write(f"Kairos at {status.now:%Y-%m-%d %H:%M:%S} UTC — {headline}")
        write("")
        write("Checks:")
        for check in status.checks:
            mark = "ok  " if check.ok else "FAIL"
            write(f"  {mark} {check.name:<9} {_check_words(check)}")
        write("")
        counts = ", ".join(f"{name} {count}" for name, count in status.jobs.items())
        write(f"Jobs: {counts}")
        write(f"Next due: {_when(status.next_due_at, status.now)}")
        self._jobs("Late (due, not yet queued)", status.late, status.now)
        self._jobs("Stuck past their lease", status.stuck, status.now)
        self._jobs("Needs review", status.needs_review, status.now)
        write(f"Accounts needing attention:{' none' if not status.accounts else ''}")
        for account in status.accounts:
            problem = account.billing_problem or account.get_status_display()
            write(f"  {account} in {account.workspace}: {problem}")
        names = ", ".join(worker.name for worker in status.workers) or "none"
        write(f"Workers seen: {len(status.workers)} ({names})")

    def _jobs(self, title: str, jobs: list[PublishJob], now: datetime) -> None:
        more = f" (first {LIST_LIMIT})" if len(jobs) == LIST_LIMIT else ""
        self.stdout.write(f"{title}{more}:{' none' if not jobs else ''}")
        for job in jobs:
            line = f"  job {job.pk}, post {job.post_id} → {job.account}, {job.status}"
            line += f", due {_when(job.due_at, now)}"
            if job.error_message:
                line += f": {job.error_message}"
            self.stdout.write(line)


def _dumps(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "none"
    seconds = round((moment - now).total_seconds())
    relative = f"in {seconds} s" if seconds >= 0 else f"{-seconds} s ago"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({relative})"


def _check_words(check: Check) -> str:
    detail = check.detail
    if "error" in detail:
        return str(detail["error"])
    match check.name:
        case "database":
            return detail["vendor"]
        case "broker":
            return ", ".join(
                f"{queue} {count} waiting" for queue, count in detail["queues"].items()
            )
        case "tick":
            if detail["last_tick_at"] is None:
                return "no tick recorded yet"
            return (
                f"last {detail['last_tick_at']} ({detail['age_seconds']} s ago; "
                f"stalled after {detail['stale_after_seconds']} s)"
            )
        case "workers":
            return f"{detail['seen']} seen"
        case "backlog":
            return (
                f"{detail['due_unqueued']} due but not queued, oldest waiting "
                f"{detail['oldest_age_seconds']} s (at most {detail['max_age_seconds']} s)"
            )
    return json.dumps(detail)
