"""A demo workspace for a first look: sandbox accounts, posts over the next two weeks,
recurring schedules and a campaign, all made through the ordinary services, so the
demo obeys every rule real posts do (and publishes, on the sandbox, when due).

The plan is plain data (`demo_plan`), so a dry run shows exactly what `demo_seed`
makes. The demo is recognised by its workspace's slug; seeding again makes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import Workspace
from accounts.services import social_account_create_sandbox, workspace_create
from accounts.timezones import utc_to_wall, zone_get
from posts.models import Campaign, Post
from posts.services import post_create
from publishing.campaigns import campaign_distribute
from publishing.plans import schedule_set
from scheduling.models import Schedule

DEMO_NAME = "Kairos demo"
DEMO_SLUG = "kairos-demo"
DEMO_TIMEZONE = "Europe/Paris"
HANDLES = ("kairos_news", "kairos_tips", "kairos_events")


@dataclass(frozen=True)
class PlannedPost:
    texts: tuple[str, ...]
    handles: tuple[str, ...]
    kind: str = Schedule.Kind.ONCE
    local_date: date | None = None
    local_time: time = time(9, 0)
    rule: dict = field(default_factory=dict)
    campaign: bool = False

    def describe(self) -> str:
        if self.campaign:
            when = "on its day of the campaign at 19:00"
        elif self.kind == Schedule.Kind.ONCE:
            when = f"once on {self.local_date:%a %d %b} at {self.local_time:%H:%M}"
        elif self.kind == Schedule.Kind.INTERVAL:
            when = (
                f"every {self.rule['every']} {self.rule['unit']} from "
                f"{self.local_date:%a %d %b} {self.local_time:%H:%M}"
            )
        elif self.kind == Schedule.Kind.CRON:
            when = f"by cron “{self.rule['cron']}”"
        else:
            when = f"by RRULE {self.rule['rrule']} from {self.local_date:%a %d %b}"
        thread = f" (a thread of {len(self.texts)})" if len(self.texts) > 1 else ""
        accounts = ", ".join(f"@{handle}" for handle in self.handles)
        return f"post “{self.texts[0][:50]}”{thread} to {accounts}, {when} {DEMO_TIMEZONE}"


@dataclass(frozen=True)
class DemoPlan:
    workspace: str
    handles: tuple[str, ...]
    campaign: tuple[str, date, date]
    posts: tuple[PlannedPost, ...]

    def lines(self) -> list[str]:
        name, starts_on, ends_on = self.campaign
        return [
            f"workspace “{self.workspace}” (zone {DEMO_TIMEZONE})",
            *(f"sandbox account @{handle}" for handle in self.handles),
            f"campaign “{name}” from {starts_on:%a %d %b} to {ends_on:%a %d %b}",
            *(post.describe() for post in self.posts),
        ]


def demo_workspace() -> Workspace | None:
    return Workspace.objects.filter(slug=DEMO_SLUG).first()


def demo_plan(*, now: datetime) -> DemoPlan:
    """What the demo holds, dated from `now` on the demo zone's calendar."""
    today = utc_to_wall(now, zone_get(DEMO_TIMEZONE)).date()
    news, tips, events = HANDLES
    one_offs = [
        (1, time(8, 30), ("Good morning! Kairos publishes this at 08:30 Paris time.",), (news,)),
        (2, time(12, 0), ("Lunch-time reading: how Kairos never posts twice.",), (news, tips)),
        (
            4,
            time(18, 15),
            (
                "A thread, part 1: every part goes out in order…",
                "…part 2 replies to part 1…",
                "…and part 3 closes the thread.",
            ),
            (tips,),
        ),
        (6, time(10, 0), ("Meet us at the Kairos meetup next week.",), (events,)),
        (9, time(16, 45), ("Behind the scenes: a post is one job per account.",), (news,)),
        (13, time(9, 15), ("Two weeks of Kairos: thank you for following along.",), HANDLES),
    ]
    posts = [
        PlannedPost(
            texts=texts, handles=handles, local_date=today + timedelta(days=days), local_time=at
        )
        for days, at, texts, handles in one_offs
    ]
    posts += [
        PlannedPost(
            texts=("Tip of the day for {weekday} {date}: schedule in the zone you mean.",),
            handles=(tips,),
            kind=Schedule.Kind.INTERVAL,
            local_date=today + timedelta(days=1),
            local_time=time(9, 0),
            rule={"every": 1, "unit": Schedule.Unit.DAYS},
        ),
        PlannedPost(
            texts=("Weekly round-up #{n}: what went out this week.",),
            handles=(news,),
            kind=Schedule.Kind.CRON,
            local_date=today,
            local_time=time(17, 0),
            rule={"cron": "0 17 * * FRI"},
        ),
        PlannedPost(
            texts=("Event reminder for {weekday}: doors open at 19:00.",),
            handles=(events,),
            kind=Schedule.Kind.RRULE,
            local_date=today + timedelta(days=1),
            local_time=time(11, 0),
            rule={"rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"},
        ),
    ]
    launch = [
        "Launch week, day one: Kairos is here.",
        "Launch week: recurring posts that keep their wall time across DST.",
        "Launch week: threads, retries and reconciliation.",
        "Launch week, last day: try the sandbox yourself.",
    ]
    posts += [PlannedPost(texts=(text,), handles=(news, events), campaign=True) for text in launch]
    return DemoPlan(
        workspace=DEMO_NAME,
        handles=HANDLES,
        campaign=("Launch week", today + timedelta(days=3), today + timedelta(days=9)),
        posts=tuple(posts),
    )


@transaction.atomic
def demo_seed(*, now: datetime | None = None) -> Workspace:
    """Make the demo workspace of `demo_plan`, owned by the first superuser if any.

    All or nothing. Raises DemoExists when it was made before.
    """
    now = now or timezone.now()
    existing = demo_workspace()
    if existing is not None:
        raise DemoExists(existing)
    plan = demo_plan(now=now)
    owner = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    # Its slug is DEMO_SLUG: made from the name, and no workspace has it yet.
    workspace = workspace_create(name=plan.workspace, owner=owner, default_timezone=DEMO_TIMEZONE)
    accounts = {
        handle: social_account_create_sandbox(workspace=workspace, handle=handle, actor=owner)
        for handle in plan.handles
    }
    name, starts_on, ends_on = plan.campaign
    campaign = Campaign.objects.create(
        workspace=workspace, name=name, starts_on=starts_on, ends_on=ends_on
    )
    for planned in plan.posts:
        post = post_create(
            workspace=workspace,
            author=owner,
            texts=planned.texts,
            accounts=[accounts[handle] for handle in planned.handles],
        )
        if planned.campaign:
            Post.objects.filter(pk=post.pk).update(campaign=campaign)
            continue
        schedule_set(
            post=post,
            kind=planned.kind,
            local_date=planned.local_date,
            local_time=planned.local_time,
            timezone_name=DEMO_TIMEZONE,
            actor=owner,
            now=now,
            **planned.rule,
        )
    campaign_distribute(campaign=campaign, actor=owner, now=now)
    return workspace


class DemoExists(Exception):
    def __init__(self, workspace: Workspace) -> None:
        super().__init__(
            f"The demo workspace “{workspace.name}” exists already (made "
            f"{workspace.created_at:%Y-%m-%d %H:%M} UTC); nothing was created. Delete it in "
            "the admin to seed it again."
        )
        self.workspace = workspace
