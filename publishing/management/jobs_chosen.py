"""Which jobs an operator command acts on: ids, or the jobs of one account in a status.
Shared by `requeue` and `reconcile`."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import SocialAccount
from publishing.models import JobStatus, PublishJob
from publishing.post_csv import account_spec_split

# Usage errors (nothing chosen) exit 2; 1 is kept for jobs that could not be handled.
USAGE = 2


def job_arguments_add(parser, *, statuses: tuple[str, ...]) -> None:
    parser.add_argument("job", nargs="*", type=int, help="Ids of publish jobs.")
    parser.add_argument(
        "--account",
        help="Every job of this account in --status instead: its id, network:@handle or "
        "@handle (with --workspace where the handle is in several).",
    )
    parser.add_argument("--workspace", help="Slug of the account's workspace.")
    parser.add_argument(
        "--status",
        choices=statuses,
        default=JobStatus.NEEDS_REVIEW,
        help="With --account: the jobs in this status (default needs_review).",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="List the jobs it would act on; change nothing."
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="No progress bar (for logs and cron)."
    )


def account_find(*, spec: str, workspace: str | None) -> SocialAccount:
    accounts = SocialAccount.objects.select_related("workspace")
    if workspace:
        accounts = accounts.filter(workspace__slug=workspace)
    if spec.isdigit():
        found = list(accounts.filter(pk=int(spec)))
    else:
        network, handle = account_spec_split(spec)
        found = list(accounts.filter(handle__iexact=handle))
        if network:
            found = [account for account in found if account.network == network]
    if not found:
        raise CommandError(f"No account {spec}.", returncode=USAGE)
    if len(found) > 1:
        names = ", ".join(f"{a.network}:@{a.handle} in {a.workspace.slug}" for a in found)
        raise CommandError(
            f"{spec} is several accounts ({names}); add network: or --workspace.",
            returncode=USAGE,
        )
    return found[0]


def jobs_chosen(*, options: dict) -> list[PublishJob]:
    ids, spec = options["job"], options["account"]
    if bool(ids) == bool(spec):
        raise CommandError("Give job ids or --account, not both.", returncode=USAGE)
    jobs = PublishJob.objects.select_related("post__workspace", "account").order_by("pk")
    if spec:
        account = account_find(spec=spec, workspace=options["workspace"])
        return list(jobs.filter(account=account, status=options["status"]))
    found = list(jobs.filter(pk__in=ids))
    missing = sorted(set(ids) - {job.pk for job in found})
    if missing:
        raise CommandError(
            f"No publish job {', '.join(map(str, missing))}; nothing was done.", returncode=USAGE
        )
    return found
