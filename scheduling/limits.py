"""An account's posting limits: what a valid limit is, and setting or removing one.

The rules here are the one place a limit is judged; the admin's form and the API both
ask `posting_limit_problems`. What a limit then does to plans and jobs (refusing a
schedule, holding a job back) is publishing/limits.py's.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import SocialAccount
from accounts.services import audit_record
from scheduling.models import PostingLimit

LIMIT_FIELDS = ("min_spacing", "max_per_hour", "max_per_day")


def posting_limit_problems(
    *,
    min_spacing: timedelta | None,
    max_per_hour: int | None,
    max_per_day: int | None,
) -> dict[str, str]:
    """What is wrong with a limit, by field; empty when it can be kept."""
    problems = {}
    if min_spacing is not None and min_spacing < timedelta(0):
        problems["min_spacing"] = "Enter how long, e.g. 00:15:00, or leave it empty."
    # A cap of 0 would stop the account posting at all; pausing the account says that.
    for name, value in (("max_per_hour", max_per_hour), ("max_per_day", max_per_day)):
        if value is not None and value < 1:
            problems[name] = "Give a cap of at least 1, or leave it empty for no cap."
    return problems


@transaction.atomic
def posting_limit_create(*, account: SocialAccount, actor, **values) -> PostingLimit:
    """The account's limits; an account has one set, so a second is refused."""
    if PostingLimit.objects.filter(account=account).exists():
        raise ValidationError(
            {"account": f"@{account.handle} has posting limits already; change those instead."}
        )
    limit = PostingLimit(account=account)
    _limit_apply(limit, values)
    limit.save()
    audit_record(
        workspace=account.workspace,
        actor=actor,
        action="postinglimit.created",
        subject=limit,
        data={"values": _shown(limit)},
    )
    return limit


@transaction.atomic
def posting_limit_update(*, limit: PostingLimit, actor, **values) -> PostingLimit:
    """Change the named rules of the limit; the others stay."""
    before = _shown(limit)
    _limit_apply(limit, values)
    after = _shown(limit)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if changes:
        limit.save()
        audit_record(
            workspace=limit.account.workspace,
            actor=actor,
            action="postinglimit.changed",
            subject=limit,
            data={"changes": changes},
        )
    return limit


@transaction.atomic
def posting_limit_delete(*, limit: PostingLimit, actor) -> None:
    """The account posts without limits from now on."""
    audit_record(
        workspace=limit.account.workspace,
        actor=actor,
        action="postinglimit.deleted",
        subject=limit,
        data={"was": _shown(limit)},
    )
    limit.delete()


def _limit_apply(limit: PostingLimit, values: dict) -> None:
    unknown = sorted(set(values) - set(LIMIT_FIELDS))
    if unknown:
        raise ValueError(f"Not a posting limit rule: {', '.join(unknown)}.")
    for name, value in values.items():
        setattr(limit, name, value)
    problems = posting_limit_problems(
        min_spacing=limit.min_spacing,
        max_per_hour=limit.max_per_hour,
        max_per_day=limit.max_per_day,
    )
    if problems:
        raise ValidationError(problems)


def _shown(limit: PostingLimit) -> dict[str, str]:
    return {
        name: "" if getattr(limit, name) is None else str(getattr(limit, name))
        for name in LIMIT_FIELDS
    }
