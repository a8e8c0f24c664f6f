"""Spreading a campaign's posts over its days: at most one post a day, first to last.

Each post is scheduled once through `schedule_once`, so every rule of scheduling
applies (the post must be publishable, the time still ahead, running jobs are not
taken back), and the days are wall dates: `time_of_day` on the campaign's zone's
clock, with the one rule for wall times a zone skips or repeats
(accounts/timezones.py).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from posts.models import Campaign
from publishing.plans import schedule_once
from scheduling.models import Schedule


def campaign_day_offsets(*, post_count: int, day_count: int) -> list[int]:
    """The day (0 = the campaign's first) of each of `post_count` posts, in order.

    Needs 1 <= post_count <= day_count. One post goes on the first day. Otherwise post
    i of n (counting from 0) goes on day round(i * (days - 1) / (n - 1)), halves
    rounded up: the first post on the first day, the last on the last day, the rest
    as evenly between as whole days allow. With n <= days the step is at least one
    day, so no two posts share a day. Worked in integers, so no float rounding.

        posts  days  day offsets
          2      5   0 4
          3      7   0 3 6
          4      7   0 2 4 6
          5      7   0 2 3 5 6
    """
    if post_count == 1:
        return [0]
    span, gaps = day_count - 1, post_count - 1
    # floor(i·span/gaps + ½) without leaving the integers.
    return [(2 * i * span + gaps) // (2 * gaps) for i in range(post_count)]


def campaign_distribute(
    *,
    campaign: Campaign,
    actor,
    time_of_day: time = time(19, 0),
    now: datetime | None = None,
) -> list[Schedule]:
    """Schedule the campaign's posts (alive, oldest first) one a day at `time_of_day`.

    The zone is the campaign's, or else its workspace's. All or nothing: if one
    post cannot be scheduled, none is, and the error names that post. Posts that
    were scheduled already are rescheduled by the same rules.
    """
    timezone_name = campaign.timezone or campaign.workspace.default_timezone
    posts = list(campaign.posts.alive().order_by("id"))
    day_count = (campaign.ends_on - campaign.starts_on).days + 1
    _check_posts_fit(campaign=campaign, post_count=len(posts), day_count=day_count)
    offsets = campaign_day_offsets(post_count=len(posts), day_count=day_count)
    schedules = []
    with transaction.atomic():
        for post, offset in zip(posts, offsets, strict=True):
            local_date = campaign.starts_on + timedelta(days=offset)
            try:
                schedule = schedule_once(
                    post=post,
                    local_date=local_date,
                    local_time=time_of_day,
                    timezone_name=timezone_name,
                    actor=actor,
                    now=now,
                )
            except ValidationError as exc:
                raise ValidationError(
                    f"Post “{post}” could not be scheduled for {local_date:%a %d %b %Y} "
                    f"{time_of_day:%H:%M} {timezone_name}: {' '.join(exc.messages)} Nothing "
                    "in the campaign was scheduled; fix this post or take it out of the "
                    "campaign, then distribute again."
                ) from exc
            schedules.append(schedule)
    return schedules


def _check_posts_fit(*, campaign: Campaign, post_count: int, day_count: int) -> None:
    if post_count == 0:
        raise ValidationError(
            f"Campaign “{campaign}” has no posts to distribute; add posts to it first."
        )
    if post_count > day_count:
        raise ValidationError(
            f"Campaign “{campaign}” has {post_count} posts but runs for {day_count} "
            f"day{'s' if day_count != 1 else ''} ({campaign.starts_on:%d %b %Y} to "
            f"{campaign.ends_on:%d %b %Y}), and it places at most one post a day. Make "
            f"it last at least {post_count} days, or take {post_count - day_count} "
            f"post{'s' if post_count - day_count != 1 else ''} out of it."
        )
