"""The same words from several accounts at once, which some networks forbid (X does).

What counts as "the same words" and how near in time counts as "at once" are the
network's rules, from its adapter (`comparable_texts`, `identical_text_window`).
Looking across posts, their schedules and their jobs is Kairos's, and needs every
plan and job: so it is here, above them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Q

from accounts.models import SocialAccount
from posts.models import Post
from publishing.models import JobStatus, PublishJob
from publishing.networks import adapters
from publishing.networks.base import NetworkAdapter
from publishing.services import Occurrence, post_content_for, post_zone
from scheduling.models import Schedule

# When a job's post goes (or went) out: a queued or running job is going out now,
# which is when it was last moved.
_JOB_INSTANTS = {
    JobStatus.PENDING: "next_attempt_at",
    JobStatus.QUEUED: "updated_at",
    JobStatus.RUNNING: "updated_at",
    JobStatus.PUBLISHED: "published_at",
}


def post_identical_text_conflicts(*, post: Post, at: datetime) -> list[str]:
    """Other accounts of a network that forbids it, set to publish any of this post's
    texts near `at`, as sentences to act on.

    Looks at every workspace of this Kairos, because the network judges the accounts,
    not our workspaces: other posts' schedules and jobs waiting or published near
    `at`, and this post's own accounts among themselves. One account repeating itself
    is the network's duplicate rule, checked elsewhere. Accounts of other workspaces
    are not named.
    """
    problems = []
    for adapter in adapters():
        if adapter.identical_text_window is not None:
            problems += _conflicts_on(adapter, post=post, at=at)
    return problems


def _conflicts_on(adapter: NetworkAdapter, *, post: Post, at: datetime) -> list[str]:
    label, window = adapter.label, adapter.identical_text_window
    ours = dict(_rendered(adapter, post=post, at=at))
    problems = []
    accounts = list(ours)
    for position, account in enumerate(accounts):
        for other in accounts[position + 1 :]:
            if ours[account] & ours[other]:
                problems.append(
                    f"{account} and {other} would publish the same text at the same time; "
                    f"{label} forbids identical posts from several accounts. Give one of them "
                    "its own text."
                )
    for other_post, other_account, when, texts in _planned_near(adapter, post=post, at=at):
        for account, our_texts in ours.items():
            if account.pk == other_account.pk or not our_texts & texts:
                continue
            if other_account.workspace_id == post.workspace_id:
                whom = f"{other_account} (post #{other_post.pk} at {when:%H:%M} UTC)"
            else:
                whom = f"an {label} account of another workspace"
            problems.append(
                f"{account} would publish the same text as {whom}, less than "
                f"{window.seconds // 60} minutes apart; {label} forbids identical "
                "posts from several accounts. Change the text or move the time."
            )
    return problems


def _rendered(
    adapter: NetworkAdapter, *, post: Post, at: datetime, number: int | None = None
) -> Iterator[tuple[SocialAccount, frozenset[str]]]:
    if number is None:
        schedule = Schedule.objects.filter(post=post).only("occurrence_count").first()
        number = schedule.occurrence_count + 1 if schedule else 1
    occurrence = Occurrence(at=at, number=number, zone=post_zone(post=post))
    for target in post.targets.filter(account__network=adapter.network).select_related("account"):
        content = post_content_for(post=post, target=target, occurrence=occurrence)
        yield target.account, adapter.comparable_texts(content)


def _planned_near(
    adapter: NetworkAdapter, *, post: Post, at: datetime
) -> Iterator[tuple[Post, SocialAccount, datetime, frozenset[str]]]:
    """Other posts going to (or just gone to) the network's accounts near `at`."""
    window = adapter.identical_text_window
    around = (at - window, at + window)
    schedules = Schedule.objects.filter(
        status=Schedule.Status.ACTIVE,
        next_occurrence_at__range=around,
        post__deleted_at__isnull=True,
        post__targets__account__network=adapter.network,
    ).exclude(post=post)
    for schedule in schedules.select_related("post").distinct():
        when = schedule.next_occurrence_at
        for account, texts in _rendered(
            adapter, post=schedule.post, at=when, number=schedule.occurrence_count + 1
        ):
            yield schedule.post, account, when, texts

    timed = Q()
    for status, field in _JOB_INSTANTS.items():
        timed |= Q(status=status, **{f"{field}__range": around})
    jobs = (
        PublishJob.objects.filter(timed, account__network=adapter.network)
        .exclude(post=post)
        .select_related("post", "account")
    )
    for job in jobs:
        rendered = dict(
            _rendered(adapter, post=job.post, at=job.occurrence_at, number=job.occurrence_number)
        )
        if job.account in rendered:
            when = getattr(job, _JOB_INSTANTS[job.status])
            yield job.post, job.account, when, rendered[job.account]
