"""Posts as rows of a table: the import/export format of `import_posts`, `export_posts`
and the admin's post list (docs/import-example.csv, README "Importing and exporting
posts").

A row is read into plain data (`post_row_parse`), then made into a post by the same
services the composer calls (`post_row_import`: post_create, then schedule_set, which
checks the text per network, the posting limits and the time in its zone). Every
refusal names the row's column, so a person can find it in the sheet. Exporting writes
the same columns (`post_row_export`), so an export imports again as copies.

Columns: workspace (slug), accounts (handles, `network:handle` where a handle is on two
networks), text (thread parts separated by a line `---`), variants (same separator),
date, time, timezone, repeat (once, interval, cron, rrule), every, unit, cron, rrule,
tags, campaign, priority. No date: the post stays a draft. Media and per-account texts
are not carried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import SocialAccount, Workspace
from accounts.services import audit_record
from posts.models import Campaign, Post, Tag
from posts.services import post_create
from publishing.plans import schedule_date_time_problems, schedule_set
from scheduling.models import Schedule

COLUMNS = (
    "workspace",
    "accounts",
    "text",
    "variants",
    "date",
    "time",
    "timezone",
    "repeat",
    "every",
    "unit",
    "cron",
    "rrule",
    "tags",
    "campaign",
    "priority",
)
PART_SEPARATOR = "---"
# The services name schedule fields as the model does; the sheet's columns are shorter.
SERVICE_FIELD_COLUMNS = {"local_date": "date", "local_time": "time", "kind": "repeat"}
PRIORITIES = {label.lower(): value for value, label in Post.Priority.choices}


@dataclass(frozen=True)
class PostRow:
    """One row, read but not yet checked against the database."""

    workspace: str
    accounts: tuple[tuple[str, str], ...]  # (network or "", handle without @)
    texts: tuple[str, ...]
    variants: tuple[str, ...]
    local_date: date | None
    local_time: time | None
    timezone: str
    kind: str
    every: int | None
    unit: str
    cron: str
    rrule: str
    tags: tuple[str, ...]
    campaign: str
    priority: int

    def describe(self) -> str:
        thread = f" (a thread of {len(self.texts)})" if len(self.texts) > 1 else ""
        accounts = ", ".join(
            f"{network}:@{handle}" if network else f"@{handle}" for network, handle in self.accounts
        )
        if self.local_date is None:
            when = "kept as a draft"
        else:
            zone = self.timezone or "(the workspace's zone)"
            when = f"{self.kind} from {self.local_date} {self.local_time} {zone}"
        return f"post “{self.texts[0][:50]}”{thread} in {self.workspace} to {accounts}, {when}"


def parts_split(value: str) -> tuple[str, ...]:
    """Texts separated by a line holding only `---` (the composer's variant separator)."""
    lines = value.replace("\r\n", "\n").split("\n")
    chunks, current = [], []
    for line in lines:
        if line.strip() == PART_SEPARATOR:
            chunks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    chunks.append("\n".join(current))
    return tuple(chunk.strip() for chunk in chunks if chunk.strip())


def parts_join(texts: Iterable[str]) -> str:
    return f"\n{PART_SEPARATOR}\n".join(texts)


def account_spec_split(spec: str) -> tuple[str, str]:
    """`network:@handle` or `@handle` (a Mastodon handle's own `@host:port` kept whole)
    as (network or "", handle without its leading @)."""
    network, _, handle = spec.partition(":")
    if network not in SocialAccount.Network.values:
        network, handle = "", spec
    return network, handle.lstrip("@")


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in re.split(r"[,;]", value) if name.strip())


def post_row_parse(row: Mapping[str, str | None]) -> PostRow:
    """Read a row's cells; raise a ValidationError keyed by column for what cannot be read."""
    cell = {column: str(row.get(column) or "").strip() for column in COLUMNS}
    errors: dict[str, list[str]] = {}

    def refuse(column: str, message: str) -> None:
        errors.setdefault(column, []).append(message)

    if not cell["workspace"]:
        refuse("workspace", "Give the workspace's slug.")
    accounts = []
    for entry in re.split(r"[\s,;]+", cell["accounts"]):
        if not entry:
            continue
        accounts.append(account_spec_split(entry))
    texts = parts_split(cell["text"])
    if not texts:
        refuse("text", "A post needs text; separate thread parts by a line “---”.")
    local_date = local_time = None
    if cell["date"]:
        try:
            local_date = date.fromisoformat(cell["date"])
        except ValueError:
            refuse("date", f"“{cell['date']}” is no date; write YYYY-MM-DD.")
    if cell["time"]:
        try:
            local_time = time.fromisoformat(cell["time"])
        except ValueError:
            refuse("time", f"“{cell['time']}” is no time; write HH:MM or HH:MM:SS.")
    missing = schedule_date_time_problems(has_date=bool(cell["date"]), has_time=bool(cell["time"]))
    for name, message in missing.items():
        refuse(SERVICE_FIELD_COLUMNS[name], message)
    kind = cell["repeat"].lower() or Schedule.Kind.ONCE
    if kind not in Schedule.Kind.values:
        refuse("repeat", f"“{cell['repeat']}”: write one of {', '.join(Schedule.Kind.values)}.")
    if cell["date"] and not cell["accounts"]:
        refuse("accounts", "A scheduled post needs at least one account.")
    if kind != Schedule.Kind.ONCE and not cell["date"]:
        refuse("date", "A repeating post needs the date and time of its first occurrence.")
    every = None
    if cell["every"]:
        try:
            every = int(cell["every"])
        except ValueError:
            refuse("every", f"“{cell['every']}” is no whole number.")
    priority = Post.Priority.NORMAL
    if cell["priority"]:
        wanted = cell["priority"].lower()
        if wanted in PRIORITIES:
            priority = PRIORITIES[wanted]
        elif wanted.isdigit() and int(wanted) in Post.Priority.values:
            priority = int(wanted)
        else:
            refuse("priority", f"“{cell['priority']}”: write one of {', '.join(PRIORITIES)}.")
    if errors:
        raise ValidationError(errors)
    return PostRow(
        workspace=cell["workspace"],
        accounts=tuple(accounts),
        texts=texts,
        variants=parts_split(cell["variants"]),
        local_date=local_date,
        local_time=local_time,
        timezone=cell["timezone"],
        kind=kind,
        every=every,
        unit=cell["unit"].lower(),
        cron=cell["cron"],
        rrule=cell["rrule"],
        tags=_names(cell["tags"]),
        campaign=cell["campaign"],
        priority=priority,
    )


def _accounts_resolve(*, workspace: Workspace, wanted: Iterable[tuple[str, str]]):
    accounts, problems = [], []
    known = list(workspace.accounts.all())
    for network, handle in wanted:
        found = [
            account
            for account in known
            if account.handle.lower() == handle.lower()
            and (not network or account.network == network)
        ]
        label = f"{network}:@{handle}" if network else f"@{handle}"
        if not found:
            problems.append(f"{label} is no account of {workspace.slug}.")
        elif len(found) > 1:
            choices = " or ".join(f"{account.network}:@{account.handle}" for account in found)
            problems.append(f"@{handle} is on several networks; write {choices}.")
        else:
            accounts.append(found[0])
    return accounts, problems


@transaction.atomic
def post_row_import(
    *, row: PostRow, actor, workspaces: QuerySet[Workspace], now: datetime | None = None
) -> Post:
    """Make the row's post (and schedule it, if it has a date), or nothing.

    `workspaces` are those the importer may compose in; another one is “not found”.
    Tags the workspace lacks are made (and recorded); a campaign must exist.
    Raises a ValidationError keyed by the sheet's columns.
    """
    workspace = workspaces.filter(slug=row.workspace).first()
    if workspace is None:
        raise ValidationError({"workspace": f"No workspace “{row.workspace}” found."})
    accounts, problems = _accounts_resolve(workspace=workspace, wanted=row.accounts)
    errors = {"accounts": problems} if problems else {}
    campaign = None
    if row.campaign:
        campaign = Campaign.objects.filter(workspace=workspace, name=row.campaign).first()
        if campaign is None:
            errors["campaign"] = [
                f"No campaign “{row.campaign}” in {workspace.slug}; create it first."
            ]
    if errors:
        raise ValidationError(errors)
    post = post_create(workspace=workspace, author=actor, texts=row.texts, accounts=accounts)
    tags = [_tag_get_or_create(workspace=workspace, name=name, actor=actor) for name in row.tags]
    Post.objects.filter(pk=post.pk).update(
        priority=row.priority, text_variants=list(row.variants), campaign=campaign
    )
    post.tags.set(tags)
    post.refresh_from_db()
    if row.local_date is None:
        return post
    try:
        schedule_set(
            post=post,
            kind=row.kind,
            local_date=row.local_date,
            local_time=row.local_time,
            timezone_name=row.timezone,
            actor=actor,
            every=row.every,
            unit=row.unit,
            cron=row.cron,
            rrule=row.rrule,
            now=now,
        )
    except ValidationError as refusal:
        raise ValidationError(_columns_of(refusal)) from None
    return post


def _columns_of(refusal: ValidationError) -> dict[str, list[str]]:
    """A service's refusal keyed by the sheet's columns. One about the post as a whole
    (post_problems: a network refusing its text on an account, an account disabled) is
    shown on the text column, naming the account."""
    if not hasattr(refusal, "error_dict"):
        return {"text": refusal.messages}
    columns: dict[str, list[str]] = {}
    for name, messages in refusal.message_dict.items():
        column = SERVICE_FIELD_COLUMNS.get(name, name)
        columns.setdefault(column if column in COLUMNS else "text", []).extend(messages)
    return columns


def _tag_get_or_create(*, workspace: Workspace, name: str, actor) -> Tag:
    tag, created = Tag.objects.get_or_create(workspace=workspace, name=name)
    if created:
        audit_record(workspace=workspace, actor=actor, action="tag.created", subject=tag)
    return tag


def post_row_export(post: Post) -> dict[str, str]:
    """The post as a row of COLUMNS, read back by post_row_parse."""
    schedule = getattr(post, "schedule", None)
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        workspace=post.workspace.slug,
        accounts=" ".join(
            f"{target.account.network}:@{target.account.handle}" for target in post.targets.all()
        ),
        text=parts_join(part.text for part in post.parts.all()),
        variants=parts_join(post.text_variants),
        tags=", ".join(tag.name for tag in post.tags.all()),
        campaign=post.campaign.name if post.campaign else "",
        priority=Post.Priority(post.priority).label.lower(),
    )
    if schedule is not None:
        row.update(
            date=schedule.local_date.isoformat(),
            time=schedule.local_time.isoformat(),
            timezone=schedule.timezone,
            repeat=schedule.kind,
            every=str(schedule.every or ""),
            unit=schedule.unit,
            cron=schedule.cron,
            rrule=schedule.rrule,
        )
    return row


def posts_for_export(*, workspaces: QuerySet[Workspace]) -> QuerySet[Post]:
    return (
        Post.objects.alive()
        .filter(workspace__in=workspaces)
        .select_related("workspace", "campaign", "schedule")
        .prefetch_related("parts", "targets__account", "tags")
        .order_by("pk")
    )
