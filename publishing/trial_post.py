"""A test post to one account, from a terminal (`manage.py send_test_post`): made,
checked and published by the ordinary services, so it proves the account, its
sign-in and its network work end to end.

The post goes out in this process rather than waiting for a worker: its job is moved
pending → queued by compare-and-set (as the dispatch tick queues one), then attempted
by `execution.job_execute`, with its attempt recorded and reconciliation covering a
call cut short, as for any job. If the tick queued it first, a worker has it; the
caller waits for that worker's outcome instead. A test post is an ordinary post of the
workspace afterwards (its job, its link, its audit events).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import SocialAccount
from posts.models import Post
from posts.services import post_create
from publishing.execution import job_execute
from publishing.models import JobStatus, PublishJob
from publishing.services import post_problems, post_publish_now
from publishing.states import job_transition

IN_HAND = (JobStatus.QUEUED, JobStatus.RUNNING)


def trial_text(*, now: datetime) -> str:
    # The time makes each test post's words new: networks refuse a repeated post.
    return f"Kairos test post, {now:%Y-%m-%d %H:%M:%S} UTC. Please ignore."


def trial_post_problems(*, account: SocialAccount, text: str, actor=None) -> list[str]:
    """What would stop the test post, checked as a real post is; nothing is kept."""
    with transaction.atomic():
        post = post_create(
            workspace=account.workspace, author=actor, texts=[text], accounts=[account]
        )
        problems = post_problems(post=post)
        transaction.set_rollback(True)
    return problems


def trial_post_send(
    *, account: SocialAccount, text: str, actor=None, wait: timedelta = timedelta(seconds=60)
) -> PublishJob:
    """Publish the test post and return its job once its attempt is over: published,
    failed, in review, or pending a retry (or when `wait` for a worker ran out).

    Raises django's ValidationError when the post could not go out (the text, or the account's
    state), before anything reached the network; nothing is kept then.
    """
    now = timezone.now()
    with transaction.atomic():
        post = post_create(
            workspace=account.workspace, author=actor, texts=[text], accounts=[account]
        )
        Post.objects.filter(pk=post.pk).update(priority=Post.Priority.URGENT)
        post.refresh_from_db()
        post_publish_now(post=post, actor=actor, now=now)
        job = post.jobs.get()
        ours = job_transition(
            job_ids=[job.pk],
            from_statuses=[JobStatus.PENDING],
            to_status=JobStatus.QUEUED,
            now=now,
            lease_expires_at=now + settings.KAIROS_QUEUED_LEASE,
            send_count=1,
        )
    if ours:
        job_execute(job_id=job.pk)
    deadline = time.monotonic() + wait.total_seconds()
    job.refresh_from_db()
    while job.status in IN_HAND and time.monotonic() < deadline:
        time.sleep(0.5)
        job.refresh_from_db()
    return job
