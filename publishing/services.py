"""Publishing services: what a post looks like on a network, its status, staff actions.

Locking rules:

* A job's status moves only by compare-and-set (`states.job_transition`). The
  loser of a race updates zero rows and is told so; nothing else is locked for it.
* A post's status is derived from its jobs. The roll-up locks the post row
  (`SELECT … FOR UPDATE`) before reading the jobs, so two jobs finishing at once
  roll up one after the other and the last word is computed from both outcomes.
  Lock order is always job row(s), then post row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import AuditEvent, SocialAccount
from accounts.services import audit_record
from accounts.timezones import utc_to_wall, zone_get
from posts.models import Post, PostPart, Target
from publishing.metrics_plan import metrics_first_due_at
from publishing.models import JobStatus, PublishJob
from publishing.networks import adapter_for
from publishing.networks.base import (
    MediaFile,
    MediaUpload,
    PartContent,
    PublishError,
    PublishRequest,
)
from publishing.rows import rows_insert_from_select
from publishing.states import ACTIVE, job_transition
from publishing.stores import DatabaseStore, account_snapshot, media_file
from scheduling.models import Schedule

S = JobStatus


# --- Content ------------------------------------------------------------------------


# Recurring posts may say which occurrence they are; X refuses identical text.
TEMPLATE_VARIABLE = re.compile(r"\{(date|weekday|n)\}")


@dataclass(frozen=True)
class Occurrence:
    at: datetime
    number: int
    zone: ZoneInfo


def text_render(text: str, *, occurrence: Occurrence) -> str:
    """Fill in {date}, {weekday} and {n} for one occurrence, in the schedule's zone."""
    local = utc_to_wall(occurrence.at, occurrence.zone)
    values = {
        "date": f"{local.day} {local:%B %Y}",
        "weekday": f"{local:%A}",
        "n": str(occurrence.number),
    }
    return TEMPLATE_VARIABLE.sub(lambda match: values[match[1]], text)


def post_content_for(
    *, post: Post, target: Target, occurrence: Occurrence | None = None
) -> tuple[PartContent, ...]:
    """The parts as this target's account receives them for one occurrence.

    Without an occurrence (checking a draft) the first occurrence, now, stands in.
    """
    if occurrence is None:
        occurrence = Occurrence(at=timezone.now(), number=1, zone=post_zone(post=post))
    return _content_render(
        post=post,
        parts=list(post.parts.prefetch_related("partmedia_set__asset")),
        target=target,
        occurrence=occurrence,
    )


def _content_render(
    *, post: Post, parts: Sequence[PostPart], target: Target, occurrence: Occurrence
) -> tuple[PartContent, ...]:
    return content_render(
        texts=[part.text for part in parts],
        # In the order they were put on the part (PartMedia is ordered by position).
        media=[
            tuple(media_file(attached.asset) for attached in part.partmedia_set.all())
            for part in parts
        ],
        own_text=target.text_override,
        variants=post.text_variants,
        occurrence=occurrence,
    )


def content_render(
    *,
    texts: Sequence[str],
    media: Sequence[tuple[MediaFile, ...]],
    own_text: str,
    variants: Sequence[str],
    occurrence: Occurrence,
) -> tuple[PartContent, ...]:
    """The parts an account receives, from plain texts and files (saved or still in the
    composer): part 1 is the account's own text if it has one, else the post's text
    variants taken in turn (occurrence n uses variant n-1, round and round)."""
    texts = list(texts)
    if texts:
        turns = [texts[0], *variants]
        texts[0] = own_text or turns[(occurrence.number - 1) % len(turns)]
    return tuple(
        PartContent(text=text_render(text, occurrence=occurrence), media=files)
        for text, files in zip(texts, media, strict=True)
    )


def post_zone(*, post: Post) -> ZoneInfo:
    return posts_zones(posts=[post])[post.pk]


def posts_zones(*, posts: Iterable[Post]) -> dict[int, ZoneInfo]:
    """Each post's zone: its schedule's, or its workspace's default (workspaces loaded)."""
    posts = list(posts)
    scheduled = dict(Schedule.objects.filter(post__in=posts).values_list("post_id", "timezone"))
    return {
        post.pk: zone_get(scheduled.get(post.pk) or post.workspace.default_timezone)
        for post in posts
    }


def post_repeats_identical_text(*, post: Post) -> bool:
    """A recurring post to X with the same words every time: X will refuse the repeats."""
    schedule = Schedule.objects.filter(post=post).first()
    if schedule is None or schedule.kind == Schedule.Kind.ONCE or post.text_variants:
        return False
    if not post.targets.filter(account__network=SocialAccount.Network.X).exists():
        return False
    return not any(TEMPLATE_VARIABLE.search(part.text) for part in post.parts.all())


def post_problems(*, post: Post) -> list[str]:
    """Everything that stops this post from being published, as sentences to act on."""
    problems = []
    if post.deleted_at is not None:
        problems.append("The post is deleted; restore it first.")
    if not post.parts.exists():
        problems.append("The post has no text; write at least one part.")
    targets = list(post.targets.select_related("account"))
    if not targets:
        problems.append("The post has no accounts; choose at least one account to publish to.")
    for target in targets:
        account = target.account
        if account.workspace_id != post.workspace_id:
            problems.append(f"{account} belongs to another workspace.")
            continue
        if account.status == SocialAccount.Status.DISABLED:
            problems.append(f"{account} is disabled; enable it or choose another account.")
        adapter = adapter_for(account.network)
        content = post_content_for(post=post, target=target)
        found = adapter.validate(account=account_snapshot(account), parts=content)
        problems += [f"{account}: {problem}" for problem in found]
    return problems


def publish_request_build(*, job: PublishJob) -> PublishRequest:
    return publish_requests_build(jobs=[job])[job.pk]


def publish_requests_build(*, jobs: Sequence[PublishJob]) -> dict[int, PublishRequest]:
    """Each job's request, by job id, loading what the jobs share in a few queries
    (their posts, workspaces and accounts already loaded)."""
    post_ids = {job.post_id for job in jobs}
    parts: dict[int, list[PostPart]] = defaultdict(list)
    for part in PostPart.objects.filter(post_id__in=post_ids).prefetch_related(
        "partmedia_set__asset"
    ):
        parts[part.post_id].append(part)
    targets = {
        (target.post_id, target.account_id): target
        for target in Target.objects.filter(
            post_id__in=post_ids, account_id__in={job.account_id for job in jobs}
        )
    }
    zones = posts_zones(posts={job.post_id: job.post for job in jobs}.values())
    return {
        job.pk: PublishRequest(
            account=account_snapshot(job.account),
            parts=_content_render(
                post=job.post,
                parts=parts[job.post_id],
                target=targets[(job.post_id, job.account_id)],
                occurrence=Occurrence(
                    at=job.occurrence_at, number=job.occurrence_number, zone=zones[job.post_id]
                ),
            ),
            idempotency_key=f"kairos-job-{job.pk}",
            published_part_ids=tuple(job.part_external_ids),
            media_uploads={
                int(asset_id): MediaUpload(
                    media_id=upload["media_id"],
                    expires_at=datetime.fromisoformat(upload["expires_at"]),
                )
                for asset_id, upload in job.media_uploads.items()
            },
        )
        for job in jobs
    }


# --- A post's status from its jobs ---------------------------------------------------


def _rolled_up(statuses: set[str]) -> str:
    if statuses & ACTIVE:
        return Post.Status.PUBLISHING
    if S.NEEDS_REVIEW in statuses:
        return Post.Status.NEEDS_REVIEW
    if statuses == {S.PUBLISHED}:
        return Post.Status.PUBLISHED
    if S.PUBLISHED in statuses:
        return Post.Status.PARTIALLY_PUBLISHED
    if statuses == {S.CANCELLED}:
        return Post.Status.CANCELLED
    if statuses <= {S.MISSED, S.CANCELLED}:
        return Post.Status.MISSED
    return Post.Status.FAILED


def post_status_rollup(*, post_id: int) -> str:
    """Set the post's status from the jobs of its latest occurrence; return it."""
    return posts_status_rollup(post_ids=[post_id])[post_id]


def posts_status_rollup(*, post_ids: Iterable[int]) -> dict[int, str]:
    """Set each post's status from the jobs of its latest occurrence; return them by post.

    Set-based (a handful of statements however many posts), for ticks and workers
    settling many jobs at once. Posts are locked in id order, so two roll-ups of
    overlapping posts queue behind each other instead of deadlocking.
    """
    post_ids = sorted(set(post_ids))
    if not post_ids:
        return {}
    now = timezone.now()
    # Inside a caller's transaction (a worker's claim, a tick) no savepoint is needed:
    # a failure here fails the caller's transaction whole.
    with transaction.atomic(savepoint=False):
        rolled_up = dict(
            Post.objects.select_for_update(of=("self",))
            .filter(pk__in=post_ids)
            .order_by("pk")
            .values_list("pk", "status")
        )
        latest = (
            PublishJob.objects.filter(post_id=OuterRef("post_id"))
            .order_by("-occurrence_at")
            .values("occurrence_at")[:1]
        )
        statuses: dict[int, set[str]] = defaultdict(set)
        for post_id, status in (
            PublishJob.objects.filter(post_id__in=post_ids, occurrence_at=Subquery(latest))
            .order_by()
            .values_list("post_id", "status")
            .distinct()
        ):
            statuses[post_id].add(status)
        changed: dict[str, list[int]] = defaultdict(list)
        for post_id, job_statuses in statuses.items():
            new_status = _rolled_up(job_statuses)
            if new_status != rolled_up[post_id]:
                changed[new_status].append(post_id)
                rolled_up[post_id] = new_status
        for new_status, changed_ids in changed.items():
            _posts_status_change_audit(post_ids=changed_ids, to_status=new_status, now=now)
            Post.objects.filter(pk__in=changed_ids).update(status=new_status, updated_at=now)
    return rolled_up


def _posts_status_change_audit(*, post_ids: Sequence[int], to_status: str, now: datetime) -> None:
    """One `post.status_changed` event per post (as `audit_record` makes them), from
    the status each has now: made by the database from the post rows, read before
    their UPDATE, with nothing built in Python per post."""
    quote = connection.ops.quote_name
    rows_insert_from_select(
        model=AuditEvent,
        select={
            "workspace": "p.workspace_id",
            "subject_id": "CAST(p.id AS TEXT)",
            "from_status": "p.status",
        },
        constants={
            "action": "post.status_changed",
            "subject_type": ContentType.objects.get_for_model(Post).pk,
            "to_status": to_status,
        },
        source=f"FROM {quote(Post._meta.db_table)} p "
        f"WHERE p.id IN ({', '.join(['%s'] * len(post_ids))})",
        params=post_ids,
        now=now,
    )


# --- Staff actions --------------------------------------------------------------------


@dataclass(frozen=True)
class CancelOutcome:
    cancelled_jobs: int
    still_running: int
    already_done: int

    def message(self) -> str:
        parts = [f"Cancelled {self.cancelled_jobs} job(s)."]
        if self.still_running:
            parts.append(
                f"{self.still_running} job(s) were already being published and could not be "
                "stopped; their outcome will show when they finish."
            )
        if self.already_done:
            parts.append(f"{self.already_done} job(s) had already finished.")
        return " ".join(parts)


def post_cancel(*, post: Post, actor, now: datetime | None = None) -> CancelOutcome:
    """Stop a post from going out: its schedule and every job not yet running.

    A job that a worker has already claimed (running) cannot be taken back: its
    compare-and-set wins over ours, and the outcome says so.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Schedule.objects.filter(
            post=post, status__in=[Schedule.Status.ACTIVE, Schedule.Status.PAUSED]
        ).update(status=Schedule.Status.CANCELLED, next_occurrence_at=None, updated_at=now)
        waiting = list(
            PublishJob.objects.filter(post=post, status__in=[S.PENDING, S.QUEUED]).values_list(
                "pk", flat=True
            )
        )
        cancelled = job_transition(
            job_ids=waiting,
            from_statuses=[S.PENDING, S.QUEUED],
            to_status=S.CANCELLED,
            now=now,
            lease_expires_at=None,
            error_message="Cancelled by staff.",
        )
        running = PublishJob.objects.filter(post=post, status=S.RUNNING).count()
        done = PublishJob.objects.filter(post=post).exclude(status__in=[*ACTIVE, S.CANCELLED])
        outcome = CancelOutcome(
            cancelled_jobs=cancelled, still_running=running, already_done=done.count()
        )
        from_status = post.status
        if PublishJob.objects.filter(post=post).exists():
            post_status_rollup(post_id=post.pk)
        else:
            Post.objects.filter(pk=post.pk).update(status=Post.Status.CANCELLED, updated_at=now)
        audit_record(
            workspace=post.workspace,
            actor=actor,
            action="post.cancelled",
            subject=post,
            from_status=from_status,
            to_status=Post.objects.values_list("status", flat=True).get(pk=post.pk),
            message=outcome.message(),
        )
    return outcome


# A post in one of these went out (or was stopped) for good: sending it again is a
# decision, not a click (a peer republished old posts on a stray edit).
DONE = (Post.Status.PUBLISHED, Post.Status.PARTIALLY_PUBLISHED, Post.Status.CANCELLED)


class RepublishUnconfirmed(ValidationError):
    """Publishing the post again needs an explicit yes; the message says what went out where."""


def post_republish_check(*, post: Post, confirmed: bool) -> None:
    """Refuse to publish a finished post again unless `confirmed`, saying what already
    went out where. A recurring series still running is not finished."""
    if confirmed or post.status not in DONE:
        return
    schedule = Schedule.objects.filter(post=post).first()
    if schedule is not None and schedule.status in (
        Schedule.Status.ACTIVE,
        Schedule.Status.PAUSED,
    ):
        return
    went_out = [
        f"{job.account} ({job.external_url})"
        for job in post.jobs.filter(status=S.PUBLISHED).select_related("account")
    ]
    if went_out:
        done = f"It already went out to {', '.join(went_out)}"
    else:
        done = f"It is {post.get_status_display().lower()}"
    raise RepublishUnconfirmed(
        f"{done}; publishing it again posts it again. Confirm that you want it published "
        "again, or leave it as it is."
    )


def post_publish_now(
    *, post: Post, actor, now: datetime | None = None, republish: bool = False
) -> int:
    """Publish to every target as soon as a worker is free; return the jobs created.

    The jobs form a new occurrence at `now`, so they never collide with a scheduled
    occurrence; a schedule still waiting is finished, since the post is going out now.
    They carry the post's priority. A finished post goes out again only with
    `republish` (`post_republish_check`).
    """
    now = now or timezone.now()
    post_republish_check(post=post, confirmed=republish)
    problems = post_problems(post=post)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        Schedule.objects.filter(post=post, status=Schedule.Status.ACTIVE).update(
            status=Schedule.Status.FINISHED, next_occurrence_at=None, updated_at=now
        )
        jobs = PublishJob.objects.bulk_create(
            [
                PublishJob(
                    post=post,
                    account_id=account_id,
                    occurrence_at=now,
                    due_at=now,
                    next_attempt_at=now,
                    priority=post.priority,
                )
                for account_id in post.targets.values_list("account_id", flat=True)
            ],
            ignore_conflicts=True,
        )
        post_status_rollup(post_id=post.pk)
        audit_record(workspace=post.workspace, actor=actor, action="post.publish_now", subject=post)
    return len(jobs)


def job_move_by_staff(
    *,
    job: PublishJob,
    actor,
    action: str,
    from_statuses: tuple[str, ...],
    to_status: str,
    now: datetime,
    data: dict | None = None,
    **fields,
) -> bool:
    """A staff action on one job: compare-and-set its status, roll its post up, and
    record who did it. False when the job had moved on (the loser is told so)."""
    with transaction.atomic():
        moved = job_transition(
            job_ids=[job.pk], from_statuses=from_statuses, to_status=to_status, now=now, **fields
        )
        if moved:
            post_status_rollup(post_id=job.post_id)
            audit_record(
                workspace=job.post.workspace,
                actor=actor,
                action=action,
                subject=job,
                from_status=job.status,
                to_status=to_status,
                data=data,
            )
    return bool(moved)


def job_retry(*, job: PublishJob, actor, now: datetime | None = None) -> bool:
    """Send one failed, missed or doubtful job again, leaving the post's other jobs alone."""
    now = now or timezone.now()
    return job_move_by_staff(
        job=job,
        actor=actor,
        action="job.retried",
        from_statuses=(S.FAILED, S.MISSED, S.NEEDS_REVIEW),
        to_status=S.PENDING,
        now=now,
        due_at=now,
        next_attempt_at=now,
        error_kind="",
        error_message="",
    )


def job_cancel(*, job: PublishJob, actor, now: datetime | None = None) -> bool:
    """Stop one job that has not started or that staff reviewed; False if it is too late."""
    return job_move_by_staff(
        job=job,
        actor=actor,
        action="job.cancelled",
        from_statuses=(S.PENDING, S.QUEUED, S.NEEDS_REVIEW),
        to_status=S.CANCELLED,
        now=now or timezone.now(),
        lease_expires_at=None,
        error_message="Cancelled by staff.",
    )


def job_mark_published(*, job: PublishJob, url: str, actor, now: datetime | None = None) -> bool:
    """Staff found the post on the network: record it as published with its link."""
    now = now or timezone.now()
    url = url.strip()
    if not url.startswith(("https://", "http://")):
        raise ValidationError({"url": "Paste the full link of the post, starting with https://."})
    external_id = url.rstrip("/").rsplit("/", 1)[-1]
    return job_move_by_staff(
        job=job,
        actor=actor,
        action="job.marked_published",
        from_statuses=(S.NEEDS_REVIEW,),
        to_status=S.PUBLISHED,
        now=now,
        data={"url": url},
        external_id=external_id[:64],
        external_url=url,
        published_at=now,
        metrics_due_at=metrics_first_due_at(network=job.account.network, published_at=now),
        error_kind="",
        error_message="",
    )


class PostNotDeleted(Exception):
    """The network kept (part of) the post; `message` says what is left and what to do."""

    def __init__(self, message: str, *, error: PublishError) -> None:
        super().__init__(message)
        self.message = message
        self.error = error


def job_delete_published(*, job: PublishJob, actor, now: datetime | None = None) -> None:
    """Take a published job's post off its network: every part of a thread, last first.

    The job stays `published` (it was, and its link says where): the deletion is
    recorded in its note (`error_message`) and in the audit trail, and its metrics
    stop. A part already gone counts as deleted, so asking again after a failure
    finishes the work. Raises ValidationError for a job that is not published, and
    PostNotDeleted when the network refuses.
    """
    if job.status != S.PUBLISHED:
        raise ValidationError(
            f"Job {job.pk} is {job.get_status_display().lower()}; only a published post can be "
            "deleted from its network."
        )
    account = job.account
    adapter = adapter_for(account.network)
    snapshot, store = account_snapshot(account), DatabaseStore(network=account.network)
    part_ids = list(job.part_external_ids) or [job.external_id]
    deleted = []
    # One call per part, outside any transaction: no row stays locked while the network answers.
    for external_id in reversed(part_ids):
        try:
            adapter.delete(account=snapshot, external_id=external_id, store=store)
        except PublishError as error:
            message = (
                f"{account.get_network_display()} did not delete the post ({error.message}). "
                f"{len(deleted)} of its {len(part_ids)} part(s) are deleted; try again to finish."
            )
            audit_record(
                workspace=job.post.workspace,
                actor=actor,
                action="job.post_delete_failed",
                subject=job,
                message=message,
                data={"deleted": deleted, "kept": part_ids[: len(part_ids) - len(deleted)]},
            )
            raise PostNotDeleted(message, error=error) from error
        deleted.append(external_id)
    now = now or timezone.now()
    who = f" by {actor}" if actor is not None and actor.is_authenticated else ""
    note = f"Deleted from {account.get_network_display()}{who} on {now:%Y-%m-%d %H:%M} UTC."
    with transaction.atomic():
        PublishJob.objects.filter(pk=job.pk, status=S.PUBLISHED).update(
            error_message=note, metrics_due_at=None, updated_at=now
        )
        audit_record(
            workspace=job.post.workspace,
            actor=actor,
            action="job.post_deleted",
            subject=job,
            message=note,
            data={"deleted": deleted, "url": job.external_url},
        )
