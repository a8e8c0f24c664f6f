"""Races run for real: several processes against one PostgreSQL database.

Each contender is a separate Python process (tests/integration/contender.py)
released at the same instant; the database must come out as if the work had
been done once.
"""

import base64
import json
import random
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Membership, Workspace
from accounts.services import memberships_apply
from harness.processes import ManagedProcess
from posts.models import Post, PostPart, Target
from publishing.approval import post_content_edited
from publishing.dispatch import jobs_dispatch
from publishing.models import JobStatus as S
from publishing.models import PublishAttempt, PublishJob, SandboxPost
from scheduling.models import Schedule
from tests.factories import (
    MembershipFactory,
    PublishJobFactory,
    SandboxAccountFactory,
    WorkspaceFactory,
)
from tests.integration.conftest import ROOT, _process_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def race(tmp_path: Path, commands: list[list[str]], *, timeout: float = 120) -> None:
    """Start one process per command, release them together, wait for all to succeed."""
    go = tmp_path / "go"
    env = _process_env(tmp_path)
    contenders = [
        ManagedProcess(
            [sys.executable, "-m", "tests.integration.contender", str(go), *command],
            log_path=tmp_path / f"contender-{n}.log",
            env=env,
            cwd=ROOT,
        ).start()
        for n, command in enumerate(commands)
    ]
    try:
        go.touch()
        for contender in contenders:
            contender.wait_for_exit(timeout=timeout)
    finally:
        for contender in contenders:
            contender.terminate()


def posts_with_targets(count: int, *, accounts: int, due) -> list[Post]:
    workspace = WorkspaceFactory()
    targets = SandboxAccountFactory.create_batch(accounts, workspace=workspace)
    posts = Post.objects.bulk_create(Post(workspace=workspace) for _ in range(count))
    PostPart.objects.bulk_create(PostPart(post=p, text=f"race #{p.pk}") for p in posts)
    Target.objects.bulk_create(Target(post=p, account=a) for p in posts for a in targets)
    Schedule.objects.bulk_create(
        Schedule(
            post=p,
            local_date=due.date(),
            local_time=due.time(),
            timezone="UTC",
            next_occurrence_at=due,
        )
        for p in posts
    )
    return posts


def published_job_ids_in_broker() -> Counter:
    """The job ids of the publish_jobs messages waiting in Redis, with how often each."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    counted = Counter()
    # One list per priority step: "publish", "publish\x06\x163", … (kombu's Redis layout).
    queues = [key for key in client.keys("publish*") if client.type(key) == b"list"]
    raws = [raw for queue in queues for raw in client.lrange(queue, 0, -1)]
    for raw in raws:
        message = json.loads(raw)
        (job_ids,), _, _ = json.loads(base64.b64decode(message["body"]))
        counted.update(job_ids)
    return counted


def test_ticks_racing_each_other_create_and_send_every_job_once(tmp_path):
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    due = (timezone.now() - timedelta(seconds=1)).replace(microsecond=0)
    posts_with_targets(300, accounts=2, due=due)
    race(tmp_path, [["tick", "5"]] * 4)
    jobs = PublishJob.objects.all()
    assert jobs.count() == 600
    assert set(jobs.values_list("status", flat=True)) == {S.QUEUED}
    sent = published_job_ids_in_broker()
    assert set(sent) == set(jobs.values_list("pk", flat=True))
    assert set(sent.values()) == {1}, "a job was sent more than once"
    assert not Schedule.objects.filter(status=Schedule.Status.ACTIVE).exists()


def queued_jobs(count: int) -> list[int]:
    due = timezone.now() - timedelta(seconds=1)
    posts = posts_with_targets(count, accounts=1, due=due)
    Schedule.objects.all().delete()
    target = {t.post_id: t.account_id for t in Target.objects.filter(post__in=posts)}
    jobs = PublishJob.objects.bulk_create(
        PublishJob(
            post=p,
            account_id=target[p.pk],
            occurrence_at=due,
            due_at=due,
            next_attempt_at=due,
            status=S.QUEUED,
            lease_expires_at=due + timedelta(minutes=5),
        )
        for p in posts
    )
    return [job.pk for job in jobs]


def shuffled(ids: list[int], seed: int) -> list[str]:
    copy = [str(i) for i in ids]
    random.Random(seed).shuffle(copy)
    return copy


def test_workers_racing_for_the_same_jobs_publish_each_once(tmp_path):
    ids = queued_jobs(150)
    # Four workers, each taking every job in batches of 10 in its own order: the
    # batches overlap every which way, as second deliveries of messages would.
    race(tmp_path, [["execute", "10", *shuffled(ids, seed)] for seed in range(4)])
    assert set(PublishJob.objects.values_list("status", flat=True)) == {S.PUBLISHED}
    assert PublishAttempt.objects.count() == 150
    per_job = Counter(
        key.split(":")[0] for key in SandboxPost.objects.values_list("idempotency_key", flat=True)
    )
    assert len(per_job) == 150
    assert set(per_job.values()) == {1}


def test_cancelling_while_workers_publish_never_does_both(tmp_path):
    ids = queued_jobs(150)
    post_ids = [str(pk) for pk in PublishJob.objects.values_list("post_id", flat=True)]
    race(
        tmp_path,
        [
            *[["execute", "10", *shuffled(ids, seed)] for seed in range(2)],
            ["cancel", *shuffled(post_ids, 99)],
        ],
    )
    statuses = Counter(PublishJob.objects.values_list("status", flat=True))
    assert set(statuses) <= {S.PUBLISHED, S.CANCELLED}
    assert sum(statuses.values()) == 150
    published_keys = {
        f"kairos-job-{pk}:0"
        for pk in PublishJob.objects.filter(status=S.PUBLISHED).values_list("pk", flat=True)
    }
    assert set(SandboxPost.objects.values_list("idempotency_key", flat=True)) == published_keys
    cancelled = PublishJob.objects.filter(status=S.CANCELLED)
    assert not PublishAttempt.objects.filter(job__in=cancelled).exists()
    print(f"\nrace outcome: {dict(statuses)}")


def test_edits_after_approval_racing_ticks_leave_no_edited_post_queued(tmp_path):
    """An approved post edited while ticks dispatch it ends in review with every job
    pending: the edit either came first (the tick leaves its jobs) or pulled back what
    the tick had queued. Untouched approved posts are queued as usual."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    due = (timezone.now() - timedelta(seconds=1)).replace(microsecond=0)
    posts = posts_with_targets(200, accounts=2, due=due)
    Workspace.objects.filter(pk=posts[0].workspace_id).update(posts_need_approval=True)
    Post.objects.filter(pk__in=[p.pk for p in posts]).update(approval=Post.Approval.APPROVED)
    edited = [str(p.pk) for p in posts[::2]]
    race(tmp_path, [["tick", "5"], ["tick", "5"], ["edit", *shuffled(edited, 7)]])
    # Jobs not yet made when the edit came are made by a later tick, and wait.
    race(tmp_path, [["tick", "1"]])
    jobs = PublishJob.objects.all()
    assert jobs.count() == 400
    edited_jobs = jobs.filter(post_id__in=edited)
    assert set(edited_jobs.values_list("status", flat=True)) == {S.PENDING}
    assert set(Post.objects.filter(pk__in=edited).values_list("approval", flat=True)) == {
        Post.Approval.IN_REVIEW
    }
    assert set(jobs.exclude(post_id__in=edited).values_list("status", flat=True)) == {S.QUEUED}


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def _waits_on_a_lock(thread: threading.Thread, outcome: dict, *, seconds: float = 10) -> bool:
    """Whether `thread`, whose database session's pid it puts in `outcome["pid"]`, is
    (within `seconds`) waiting on a lock, rather than done."""
    deadline = time.monotonic() + seconds
    while thread.is_alive() and time.monotonic() < deadline:
        if "pid" in outcome and _waiting_on_a_lock(outcome["pid"]):
            break
        time.sleep(0.02)
    return thread.is_alive()


def test_a_tick_waits_for_an_edit_in_flight_and_leaves_its_new_jobs_pending():
    """The gap the race above found, made to happen every time: an edit of an approved
    post is done but not committed; a job the edit could not see (made after) is due; a
    tick then dispatches. The tick must wait for the edit on the post's row and leave
    the job pending, not queue it from the post as its statement first saw it."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    post = posts_with_targets(1, accounts=1, due=timezone.now())[0]
    Workspace.objects.filter(pk=post.workspace_id).update(posts_need_approval=True)
    Post.objects.filter(pk=post.pk).update(approval=Post.Approval.APPROVED)
    edited, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def edit() -> None:
        try:
            with transaction.atomic():
                fresh = Post.objects.select_related("workspace").get(pk=post.pk)
                outcome["edited"] = post_content_edited(post=fresh, actor=None)
                edited.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def tick() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            outcome["queued"] = jobs_dispatch(now=timezone.now(), limit=10)[0]
        finally:
            connection.close()

    editor = threading.Thread(target=edit)
    editor.start()
    assert edited.wait(timeout=30)
    job = PublishJobFactory(post=post, account=post.targets.get().account, status=S.PENDING)
    ticker = threading.Thread(target=tick)
    ticker.start()
    waited = _waits_on_a_lock(ticker, outcome)
    release.set()
    editor.join(timeout=30)
    ticker.join(timeout=30)

    job.refresh_from_db()
    assert outcome["edited"] is True
    assert (waited, outcome["queued"], job.status) == (True, 0, S.PENDING)
    assert Post.objects.get(pk=post.pk).approval == Post.Approval.IN_REVIEW


def test_two_owners_demoting_each_other_at_once_leave_one_owner():
    """Each owner's form was checked while the other was still an owner; the second
    change waits on the workspace's memberships, reads the first, and is refused."""
    first = MembershipFactory(role=Membership.Role.OWNER)
    second = MembershipFactory(workspace=first.workspace, role=Membership.Role.OWNER)
    applied, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def demote(member: Membership, actor, *, hold: bool) -> str:
        member.role = Membership.Role.EDITOR
        try:
            with transaction.atomic():
                memberships_apply(
                    workspace=member.workspace, added=[], changed=[member], removed=[], actor=actor
                )
                if hold:
                    applied.set()
                    release.wait(timeout=30)
            return "applied"
        except ValidationError as refusal:
            return refusal.messages[0]

    def first_demotes_second() -> None:
        try:
            outcome["first"] = demote(Membership.objects.get(pk=second.pk), first.user, hold=True)
        finally:
            connection.close()

    def second_demotes_first() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            outcome["second"] = demote(Membership.objects.get(pk=first.pk), second.user, hold=False)
        finally:
            connection.close()

    one = threading.Thread(target=first_demotes_second)
    one.start()
    assert applied.wait(timeout=30)
    other = threading.Thread(target=second_demotes_first)
    other.start()
    waited = _waits_on_a_lock(other, outcome)
    release.set()
    one.join(timeout=30)
    other.join(timeout=30)

    assert waited
    assert outcome["first"] == "applied"
    assert "keeps at least one owner" in outcome["second"]
    roles = dict(first.workspace.memberships.values_list("pk", "role"))
    assert roles == {first.pk: Membership.Role.OWNER, second.pk: Membership.Role.EDITOR}
