"""What an operator asks of a running Kairos: is it publishing, and what needs a person.

Read-only selectors shared by every face that answers: `/readyz` and `/info`
(publishing/views.py), the Prometheus gauges (publishing/metrics.py) and
`manage.py kairos_status`. One rule lives once: what counts as a stalled tick, a
stuck job or an account needing attention is decided here and nowhere else.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q

from accounts.models import SocialAccount, Workspace
from posts.models import Post
from publishing.heartbeats import tick_last_at, tick_stale_after, workers_seen
from publishing.models import Heartbeat, JobStatus, PublishJob
from publishing.networks.graph import VERSION_RETIRED_FROM as GRAPH_VERSION_RETIRED_FROM
from publishing.networks.linkedin.client import version_retired_from
from scheduling.models import Schedule

logger = logging.getLogger(__name__)

S = JobStatus
# The queues Kairos's workers consume (config/settings.py routes tasks to them).
QUEUES = ("dispatch", "publish", "celery", "events", "webhooks")
BROKER_TIMEOUT_SECONDS = 3.0
# How many jobs or accounts a list in the status shows; the counts are complete.
LIST_LIMIT = 10
# How long before a network retires the API version Kairos is set to use an operator is
# told to move it on.
VERSION_WARNING = timedelta(days=60)


@dataclass(frozen=True)
class Check:
    """One condition Kairos needs to publish, and what was found."""

    name: str
    ok: bool
    detail: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"ok": self.ok, **self.detail}


@dataclass(frozen=True)
class Backlog:
    """Jobs due to be sent that dispatch has not queued yet."""

    count: int
    oldest_due_at: datetime | None
    now: datetime

    @property
    def oldest_seconds(self) -> float:
        if self.oldest_due_at is None:
            return 0.0
        return max(0.0, (self.now - self.oldest_due_at).total_seconds())


def _seconds(delta: timedelta) -> float:
    return round(delta.total_seconds(), 3)


def jobs_count_by_status() -> dict[str, int]:
    """Every status, with zero for those no job has."""
    counts = dict(PublishJob.objects.order_by().values_list("status").annotate(count=Count("pk")))
    return {status: counts.get(status, 0) for status in S.values}


def accounts_count_by_status() -> dict[tuple[str, str], int]:
    rows = (
        SocialAccount.objects.order_by()
        .values_list("network", "status")
        .annotate(count=Count("pk"))
    )
    return {(network, status): count for network, status, count in rows}


def _due_unqueued(*, now: datetime):
    # The jobs dispatch would queue now (dispatch.jobs_dispatch): pending, due, and not
    # held by a paused workspace or an account that is not active. Held ones wait by
    # a person's choice, not by a fault, and are shown as accounts needing attention.
    return PublishJob.objects.filter(
        status=S.PENDING,
        next_attempt_at__lte=now,
        post__workspace__publishing_paused_at__isnull=True,
        account__status=SocialAccount.Status.ACTIVE,
    )


def backlog_read(*, now: datetime) -> Backlog:
    found = _due_unqueued(now=now).aggregate(count=Count("pk"), oldest=Min("next_attempt_at"))
    return Backlog(count=found["count"], oldest_due_at=found["oldest"], now=now)


def broker_queue_depths() -> dict[str, int]:
    """Messages waiting in each Kairos queue; raises when the broker cannot be reached."""
    depths = {}
    # Bounded, so that a broker that accepts connections but never answers fails the
    # probe instead of hanging it (Redis reads these; other transports ignore them).
    timeouts = {"socket_timeout": BROKER_TIMEOUT_SECONDS}
    timeouts["socket_connect_timeout"] = BROKER_TIMEOUT_SECONDS
    with current_app.connection_for_read(transport_options=timeouts) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
        for queue in QUEUES:
            # A channel per queue: a queue nobody declared yet is an error on some
            # transports, and the error closes the channel it happened on.
            with broker.channel() as channel:
                try:
                    depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except broker.channel_errors:
                    depths[queue] = 0
    return depths


def database_check() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        logger.warning("health: database unreachable: %s", error)
        return Check("database", False, {"error": type(error).__name__})
    return Check("database", True, {"vendor": connection.vendor})


def broker_check() -> Check:
    try:
        depths = broker_queue_depths()
    except Exception as error:
        logger.warning("health: broker unreachable: %s", error)
        return Check("broker", False, {"error": type(error).__name__})
    return Check("broker", True, {"queues": depths})


def tick_check(*, now: datetime) -> Check:
    last = tick_last_at()
    stale_after = tick_stale_after()
    detail = {"last_tick_at": last.isoformat() if last else None}
    detail["stale_after_seconds"] = _seconds(stale_after)
    if last is None:
        return Check("tick", False, {**detail, "age_seconds": None})
    age = now - last
    return Check("tick", age <= stale_after, {**detail, "age_seconds": _seconds(age)})


def workers_check(*, now: datetime) -> Check:
    # A count, not the names: the probes answer anyone, and names are host names.
    # kairos_status, run by an operator, lists them.
    seen = len(workers_seen(now=now))
    return Check("workers", bool(seen), {"seen": seen})


def backlog_check(*, now: datetime) -> Check:
    backlog = backlog_read(now=now)
    return Check(
        "backlog",
        backlog.oldest_seconds <= settings.KAIROS_READY_MAX_BACKLOG_SECONDS,
        {
            "due_unqueued": backlog.count,
            "oldest_age_seconds": round(backlog.oldest_seconds, 3),
            "max_age_seconds": settings.KAIROS_READY_MAX_BACKLOG_SECONDS,
        },
    )


def health_checks(*, now: datetime) -> list[Check]:
    """Everything Kairos needs to publish on time. Without the database nothing else can
    be read, and each check that needs it says so."""
    database = database_check()
    if not database.ok:
        unknown = {"error": "database unreachable"}
        return [
            database,
            broker_check(),
            *(Check(name, False, unknown) for name in ("tick", "workers", "backlog")),
        ]
    return [
        database,
        broker_check(),
        tick_check(now=now),
        workers_check(now=now),
        backlog_check(now=now),
    ]


# --- The operator's status (manage.py kairos_status) ---------------------------------


@dataclass(frozen=True)
class Status:
    now: datetime
    checks: list[Check]
    jobs: dict[str, int]
    backlog: Backlog
    next_due_at: datetime | None
    late: list[PublishJob]
    stuck: list[PublishJob]
    needs_review: list[PublishJob]
    accounts: list[SocialAccount]
    workers: list[Heartbeat]
    settings_to_change: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """ "failing" when Kairos cannot publish on time, "attention" when it can but
        something waits for a person, else "ok"."""
        if self.failing:
            return "failing"
        return "attention" if self.attention else "ok"

    @property
    def failing(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def attention(self) -> list[str]:
        """What a person should look at, though publishing itself works."""
        reasons = []
        if self.jobs[S.NEEDS_REVIEW]:
            reasons.append(f"{self.jobs[S.NEEDS_REVIEW]} job(s) need review")
        if self.stuck:
            reasons.append(f"{len(self.stuck)} job(s) stuck past their lease")
        if self.accounts:
            reasons.append(f"{len(self.accounts)} account(s) need attention")
        return reasons + self.settings_to_change


def next_due_at(*, now: datetime) -> datetime | None:
    """The next moment something is due: a schedule's occurrence or a waiting job."""
    schedule = Schedule.objects.filter(
        status=Schedule.Status.ACTIVE, next_occurrence_at__gt=now
    ).aggregate(at=Min("next_occurrence_at"))["at"]
    job = PublishJob.objects.filter(status=S.PENDING, next_attempt_at__gt=now).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    return min((at for at in (schedule, job) if at is not None), default=None)


def jobs_stuck(*, now: datetime) -> list[PublishJob]:
    """Queued or running jobs whose lease ran out longer ago than a stalled tick takes to be
    noticed: the tick should have sent them again or recovered them by now."""
    return list(
        PublishJob.objects.select_related("account")
        .filter(status__in=[S.QUEUED, S.RUNNING], lease_expires_at__lt=now - tick_stale_after())
        .order_by("lease_expires_at")[:LIST_LIMIT]
    )


# Accounts that hold their jobs back until a person acts: waiting to be reconnected,
# disabled, or refused for billing. (Paused accounts are a person's choice already.)
ACCOUNT_NEEDS_ATTENTION = Q(
    status__in=[SocialAccount.Status.NEEDS_REAUTH, SocialAccount.Status.DISABLED]
) | ~Q(billing_problem="")


def settings_to_change(*, now: datetime) -> list[str]:
    """Settings an operator must change before a network stops answering: the API
    version Kairos sends LinkedIn, or Meta's Graph API, where that network is in use and
    retires the version within VERSION_WARNING (or has retired it)."""
    network = SocialAccount.Network
    to_change = []
    if _network_used(settings.LINKEDIN_CLIENT_ID, network.LINKEDIN):
        version = settings.LINKEDIN_VERSION
        retired_from = version_retired_from(version)
        if retired_from is None:
            to_change.append(f"LINKEDIN_VERSION {version!r} is no LinkedIn API version: set YYYYMM")
        elif retired_from - now.date() <= VERSION_WARNING:
            to_change.append(
                f"LinkedIn retires API version {version} from about {retired_from:%Y-%m-%d}: "
                "set LINKEDIN_VERSION to a recent month (YYYYMM) and restart"
            )
    if _network_used(settings.META_APP_ID, network.FACEBOOK, network.INSTAGRAM):
        version = settings.META_GRAPH_VERSION
        retired_from = GRAPH_VERSION_RETIRED_FROM.get(version)
        if retired_from is not None and retired_from - now.date() <= VERSION_WARNING:
            to_change.append(
                f"Meta retires Graph API {version} on {retired_from:%Y-%m-%d}: set "
                "META_GRAPH_VERSION to a newer version and restart"
            )
    return to_change


def _network_used(app_id: str, *networks: str) -> bool:
    """Whether Kairos has the network's app, or accounts on it."""
    return bool(app_id) or SocialAccount.objects.filter(network__in=networks).exists()


def accounts_needing_attention() -> list[SocialAccount]:
    return list(
        SocialAccount.objects.select_related("workspace")
        .filter(ACCOUNT_NEEDS_ATTENTION)
        .order_by("pk")[:LIST_LIMIT]
    )


def status_read(*, now: datetime) -> Status:
    return Status(
        now=now,
        checks=health_checks(now=now),
        jobs=jobs_count_by_status(),
        backlog=backlog_read(now=now),
        next_due_at=next_due_at(now=now),
        late=list(
            _due_unqueued(now=now)
            .select_related("account")
            .order_by("next_attempt_at")[:LIST_LIMIT]
        ),
        stuck=jobs_stuck(now=now),
        needs_review=list(
            PublishJob.objects.select_related("account")
            .filter(status=S.NEEDS_REVIEW)
            .order_by("updated_at")[:LIST_LIMIT]
        ),
        accounts=accounts_needing_attention(),
        workers=workers_seen(now=now),
        settings_to_change=settings_to_change(now=now),
    )


# --- What is running (/info) ---------------------------------------------------------


@functools.cache
def version() -> str:
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["version"]


@functools.cache
def commit() -> str | None:
    """The commit running: KAIROS_COMMIT (set in images), else the checkout's HEAD."""
    if settings.KAIROS_COMMIT:
        return settings.KAIROS_COMMIT
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None


def info_read() -> dict:
    """Version, commit, the settings that shape publishing, and counts. Nothing secret:
    no keys, tokens or passwords, and no host names or addresses of servers."""
    return {
        "version": version(),
        "commit": commit(),
        "settings": {
            "database": connection.vendor,
            "broker": urlsplit(settings.CELERY_BROKER_URL).scheme,
            "debug": settings.DEBUG,
            "secure": settings.SECURE,
            "time_zone": settings.TIME_ZONE,
            "tick_seconds": settings.KAIROS_TICK_SECONDS,
            "heartbeat_seconds": settings.KAIROS_HEARTBEAT_SECONDS,
            "dispatch_batch_size": settings.KAIROS_DISPATCH_BATCH_SIZE,
            "max_in_flight": settings.KAIROS_MAX_IN_FLIGHT,
            "publish_batch_size": settings.KAIROS_PUBLISH_BATCH_SIZE,
            "publish_threads": settings.KAIROS_PUBLISH_THREADS,
            "task_time_limit_seconds": settings.KAIROS_TASK_TIME_LIMIT,
            "queued_lease_seconds": _seconds(settings.KAIROS_QUEUED_LEASE),
            "reconcile_delay_seconds": _seconds(settings.KAIROS_RECONCILE_DELAY),
            "metrics_enabled": bool(settings.KAIROS_METRICS_TOKEN),
            "x_connect_enabled": bool(settings.X_CLIENT_ID),
        },
        "counts": {
            "workspaces": Workspace.objects.count(),
            "accounts": {
                f"{network}:{status}": count
                for (network, status), count in sorted(accounts_count_by_status().items())
            },
            "posts": Post.objects.count(),
            "active_schedules": Schedule.objects.filter(status=Schedule.Status.ACTIVE).count(),
            "jobs": jobs_count_by_status(),
        },
    }
