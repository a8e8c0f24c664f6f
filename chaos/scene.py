"""The scene of a chaos run: fake networks that misbehave, and Kairos with posts coming due.

Import this module only after `django.setup()`: it works with Kairos's models.
Setup is not under test, so posts are written with `bulk_create` rather than
through `posts`/`scheduling` services, row for row as `schedule_once` would.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import SocialAccount
from accounts.services import workspace_create
from chaos.networks import RunningNetwork, qualified
from chaos.report import ScheduledPost
from posts.models import Post, PostPart, Target
from scheduling.models import Schedule

ACCOUNTS = 100
# Posts start falling due this long after setup, once the processes are warm.
WARM_UP = timedelta(seconds=25)
DUE_WINDOW = timedelta(minutes=2)
BATCH_SIZE = 1000


def accounts_connect(
    networks: Sequence[RunningNetwork], *, count: int = ACCOUNTS
) -> list[SocialAccount]:
    """A workspace with `count` accounts dealt round the networks, each an account of
    that network's fake with fresh credentials."""
    workspace = workspace_create(name="Chaos", owner=None)
    return [
        running.network.account_connect(
            running.control, url=running.url, workspace=workspace, number=number
        )
        for number in range(1, count + 1)
        for running in [networks[(number - 1) % len(networks)]]
    ]


def due_times(*, count: int, first: datetime, window: timedelta = DUE_WINDOW) -> list[datetime]:
    """`count` instants spread evenly over `window` from `first`."""
    step = window / count
    return [first + step * index for index in range(count)]


@transaction.atomic
def posts_schedule(*, accounts: Sequence[SocialAccount], count: int) -> list[ScheduledPost]:
    """`count` one-part posts, each with text of its own, dealt round the accounts.

    Due times are taken after the slow part (the posts), so every post still has
    its full warm-up ahead when setup ends.
    """
    run = secrets.token_hex(4)
    workspace_id = accounts[0].workspace_id
    posts = Post.objects.bulk_create(
        [Post(workspace_id=workspace_id, status=Post.Status.SCHEDULED) for _ in range(count)],
        batch_size=BATCH_SIZE,
    )
    texts = [f"chaos #{number} of {count} (run {run}): once, on time." for number in range(count)]
    assigned = [accounts[number % len(accounts)] for number in range(count)]
    PostPart.objects.bulk_create(
        [
            PostPart(post=post, position=0, text=text)
            for post, text in zip(posts, texts, strict=True)
        ],
        batch_size=BATCH_SIZE,
    )
    Target.objects.bulk_create(
        [Target(post=post, account=account) for post, account in zip(posts, assigned, strict=True)],
        batch_size=BATCH_SIZE,
    )
    dues = due_times(count=count, first=timezone.now() + WARM_UP)
    Schedule.objects.bulk_create(
        [_schedule_once(post=post, due=due) for post, due in zip(posts, dues, strict=True)],
        batch_size=BATCH_SIZE,
    )
    return [
        ScheduledPost(
            post_id=post.pk,
            user_id=qualified(account.network, account.external_id),
            text=text,
            due=due.timestamp(),
            network=account.network,
        )
        for post, account, text, due in zip(posts, assigned, texts, dues, strict=True)
    ]


def _schedule_once(*, post: Post, due: datetime) -> Schedule:
    """What `schedule_once` stores for a post due at `due`, with the wall clock in UTC."""
    return Schedule(
        post=post,
        kind=Schedule.Kind.ONCE,
        local_date=due.date(),
        local_time=due.time(),
        timezone="UTC",
        status=Schedule.Status.ACTIVE,
        next_occurrence_at=due,
    )
