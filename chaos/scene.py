"""The scene of a chaos run: fake networks that misbehave, and Kairos with posts coming due.

Import this module only after `django.setup()`: it works with Kairos's models.
Setup is not under test, so posts are written with `bulk_create` rather than
through `posts`/`scheduling` services, row for row as `schedule_once` would.
Posts on a network that downloads media (Instagram) carry one small JPEG of the
library, kept by the `posts` service as an upload would be.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import SocialAccount, Workspace
from accounts.services import workspace_create
from chaos.networks import RunningNetwork, qualified
from chaos.report import ScheduledPost
from posts.media import media_asset_create
from posts.models import MediaAsset, PartMedia, Post, PostPart, Target
from scheduling.models import Schedule

ACCOUNTS = 100
# Posts start falling due this long after setup, once the processes are warm.
WARM_UP = timedelta(seconds=25)
DUE_WINDOW = timedelta(minutes=2)
BATCH_SIZE = 1000
# Small, square (Instagram takes 4:5 to 1.91:1) and a few kB: each publication downloads it.
PHOTO_SIDE = 320


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
def posts_schedule(
    *, accounts: Sequence[SocialAccount], count: int, with_photo: Collection[str] = ()
) -> list[ScheduledPost]:
    """`count` one-part posts, each with text of its own, dealt round the accounts; those on
    a network of `with_photo` carry the run's photo.

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
    parts = PostPart.objects.bulk_create(
        [
            PostPart(post=post, position=0, text=text)
            for post, text in zip(posts, texts, strict=True)
        ],
        batch_size=BATCH_SIZE,
    )
    photographed = [
        part for part, account in zip(parts, assigned, strict=True) if account.network in with_photo
    ]
    if photographed:
        photo = photo_create(workspace_id=workspace_id)
        PartMedia.objects.bulk_create(
            [PartMedia(part=part, asset=photo, position=0) for part in photographed],
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


def photo_create(*, workspace_id: int) -> MediaAsset:
    """A real JPEG in the workspace's library, as an upload keeps it."""
    data = io.BytesIO()
    Image.new("RGB", (PHOTO_SIDE, PHOTO_SIDE), (32, 96, 160)).save(data, format="JPEG")
    upload = SimpleUploadedFile("chaos.jpg", data.getvalue(), content_type="image/jpeg")
    workspace = Workspace.objects.get(pk=workspace_id)
    return media_asset_create(
        workspace=workspace, file=upload, actor=None, alt_text="A blue square"
    )


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
