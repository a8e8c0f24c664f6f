"""The data of a benchmark: X accounts on the fake X, posts coming due, a clean slate between.

Import only after `django.setup()`. Set-up is not what is measured, so rows are
bulk-inserted, field for field as `posts`/`scheduling` services would write them
(the chaos run's scene does the same).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import OperationalError, connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import SocialAccount
from accounts.services import social_account_connect, workspace_create
from fakex.control import FakeXControl
from posts.models import Post, PostPart, Target
from publishing.models import JobStatus, PublishJob, RateLimitWindow
from scheduling.models import Schedule

BATCH_SIZE = 2000
# Far above anything a run reaches: benchmarks are about Kairos, not X's pacing.
UNREACHABLE_LIMIT = 100_000_000
# Posts are made due far ahead, then brought forward in one UPDATE once all exist.
PARKED = timedelta(days=30)
RESET_ATTEMPTS = 5
# Posts of a large workspace go out evenly over two years, the last 5% still ahead.
SPREAD = timedelta(days=730)
SPREAD_FUTURE_SHARE = 0.05


@dataclass(frozen=True)
class BenchPost:
    """A post of a figure: which X user should show which text."""

    post_id: int
    user_id: str
    text: str


def fake_x_prepare(control: FakeXControl) -> None:
    for window in control.rate_limits()["limits"]:
        control.set_rate_limit(window, limit=UNREACHABLE_LIMIT)
    control.clear_faults()


def accounts_connect(control: FakeXControl, *, count: int) -> list[SocialAccount]:
    """A workspace with `count` X accounts, each a fake X user with a fresh token.

    Many accounts, as a real scheduler has: X (and the fake) keep per-user windows.
    """
    workspace = workspace_create(name="Bench", owner=None)
    accounts = []
    for number in range(1, count + 1):
        user = control.create_connected_user(username=f"bench{number:04d}")
        accounts.append(
            social_account_connect(
                network="x",
                workspace=workspace,
                external_id=user.id,
                handle=user.username,
                credentials={
                    "access_token": user.access_token,
                    "refresh_token": user.refresh_token,
                },
            )
        )
    return accounts


@transaction.atomic
def posts_create(
    *, accounts: list[SocialAccount], count: int, label: str, due: datetime | None = None
) -> list[BenchPost]:
    """`count` one-part posts with texts of their own, dealt round the accounts, scheduled once.

    They are parked a month ahead unless `due` is given: `schedules_bring_forward`
    makes them due once they all exist.
    """
    run = secrets.token_hex(3)
    due = due or timezone.now() + PARKED
    workspace_id = accounts[0].workspace_id
    posts = Post.objects.bulk_create(
        [Post(workspace_id=workspace_id, status=Post.Status.SCHEDULED) for _ in range(count)],
        batch_size=BATCH_SIZE,
    )
    texts = [f"Kairos bench {label} {run}: post {number} of {count}." for number in range(count)]
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
    Schedule.objects.bulk_create(
        [
            Schedule(
                post=post,
                kind=Schedule.Kind.ONCE,
                local_date=due.date(),
                local_time=due.time(),
                timezone="UTC",
                status=Schedule.Status.ACTIVE,
                next_occurrence_at=due,
            )
            for post in posts
        ],
        batch_size=BATCH_SIZE,
    )
    return [
        BenchPost(post_id=post.pk, user_id=account.external_id, text=text)
        for post, account, text in zip(posts, assigned, texts, strict=True)
    ]


def schedules_bring_forward(*, first: datetime, step: timedelta) -> dict[int, datetime]:
    """Make the active schedules due at `first`, `first + step`, … in post order.

    One UPDATE, so a figure's posts become due together however long they took to
    create. Returns each post's due instant.
    """
    table = Schedule._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} AS s
               SET next_occurrence_at = %(first)s + ordered.n * %(step)s,
                   local_date = ((%(first)s + ordered.n * %(step)s) AT TIME ZONE 'UTC')::date,
                   local_time = ((%(first)s + ordered.n * %(step)s) AT TIME ZONE 'UTC')::time
              FROM (SELECT id, row_number() OVER (ORDER BY post_id) - 1 AS n
                      FROM {table} WHERE status = 'active') AS ordered
             WHERE s.id = ordered.id
            """,
            {"first": first, "step": step},
        )
    return dict(
        Schedule.objects.filter(status=Schedule.Status.ACTIVE).values_list(
            "post_id", "next_occurrence_at"
        )
    )


def database_reset() -> None:
    """Empty what a figure fills (posts and all that hangs off them, rate-limit readings),
    keeping the accounts and the beat entries."""
    tables = [model._meta.db_table for model in (Post, RateLimitWindow)]
    # Between P2 and P3 runs beat keeps ticking: TRUNCATE's table locks can deadlock
    # with a tick's row locks, and PostgreSQL then cancels one of the two. Either
    # may simply go again.
    for attempt in range(1, RESET_ATTEMPTS + 1):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            break
        except OperationalError as error:
            if "deadlock" not in str(error) or attempt == RESET_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
    tables_analyze()


def tables_analyze() -> None:
    """Up-to-date planner statistics, as autovacuum keeps them in a database that runs."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def jobs_by_status() -> dict[str, int]:
    return dict(PublishJob.objects.order_by().values_list("status").annotate(count=Count("id")))


def rows_copy(model: type[models.Model], rows: Iterable[dict[str, Any]], **constant: Any) -> None:
    """COPY rows into `model`'s table: what each row gives, plus `constant`, plus defaults.

    Field defaults (and auto_now stamps) come from one unsaved instance, so a field
    added to the model later needs no change here as long as it has a default.
    """
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    template = model(**constant)
    defaults = {
        field.attname: field.get_db_prep_save(field.pre_save(template, add=True), connection)
        for field in fields
    }
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.get(field.attname, defaults[field.attname]) for field in fields])


def spread_at(number: int, *, total: int, now: datetime) -> datetime:
    """When post `number` of `total` goes out: evenly over `SPREAD`, the last
    `SPREAD_FUTURE_SHARE` of it ahead of `now`."""
    first_at = now - SPREAD * (1 - SPREAD_FUTURE_SHARE)
    return (first_at + SPREAD / total * number).astimezone(UTC).replace(microsecond=0)


def posts_copy(
    *,
    accounts: list[SocialAccount],
    numbers: range,
    at: Callable[[int], datetime],
    now: datetime,
    columns: Callable[[int], dict[str, Any]] | None = None,
) -> range:
    """COPY posts `numbers` (a run), dealt round `accounts` (each to its account's
    workspace), post `n` going out at `at(n)`: its part, its target and its once
    schedule, those before `now` published (a published job each, the schedule
    finished), the others scheduled. `columns(n)`: more of post `n`'s fields (its
    campaign, when it was made). Returns the posts' ids, in the order of `numbers`;
    then VACUUM ANALYZE."""

    def account(number: int) -> SocialAccount:
        return accounts[number % len(accounts)]

    with transaction.atomic():
        last_before = Post.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        rows_copy(
            Post,
            (
                {
                    "workspace_id": account(n).workspace_id,
                    "status": Post.Status.PUBLISHED if at(n) < now else Post.Status.SCHEDULED,
                    **(columns(n) if columns else {}),
                }
                for n in numbers
            ),
        )
        # One session copies alone after a reset, so the ids follow one another.
        first_id = last_before + 1
        if Post.objects.filter(pk__gte=first_id).count() != len(numbers):
            raise RuntimeError("the posts' ids are not consecutive; they cannot be placed")

        def post_id(number: int) -> int:
            return first_id + number - numbers.start

        rows_copy(
            PostPart,
            (
                {"post_id": post_id(n), "text": f"Bench post {n}: what the brand says."}
                for n in numbers
            ),
            position=0,
        )
        rows_copy(Target, ({"post_id": post_id(n), "account_id": account(n).pk} for n in numbers))
        rows_copy(
            Schedule,
            (_schedule_row(post_id(n), at(n), now) for n in numbers),
            kind=Schedule.Kind.ONCE,
            timezone="UTC",
        )
        rows_copy(
            PublishJob,
            (_job_row(post_id(n), account(n).pk, at(n)) for n in numbers if at(n) < now),
            status=JobStatus.PUBLISHED,
        )
    tables_analyze()
    return range(first_id, first_id + len(numbers))


def _schedule_row(post_id: int, instant: datetime, now: datetime) -> dict[str, Any]:
    ahead = instant >= now
    return {
        "post_id": post_id,
        "local_date": instant.date(),
        "local_time": instant.time(),
        "status": Schedule.Status.ACTIVE if ahead else Schedule.Status.FINISHED,
        "next_occurrence_at": instant if ahead else None,
        "last_occurrence_at": None if ahead else instant,
        "occurrence_count": 0 if ahead else 1,
    }


def _job_row(post_id: int, account_id: int, instant: datetime) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "account_id": account_id,
        "occurrence_at": instant,
        "due_at": instant,
        "next_attempt_at": instant,
        "published_at": instant,
        "attempt_count": 1,
    }
