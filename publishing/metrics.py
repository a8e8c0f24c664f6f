"""Prometheus metrics: what processes count as they work, and what the database holds.

Two kinds, kept apart on purpose:

* Counters and histograms (attempts, lateness, dispatch lag, deferrals,
  reconciliations, token refreshes, tick duration) are counted by the process
  that saw the event. Web, worker and beat are separate processes, so
  prometheus-client runs in multi-process mode: each process writes its values to
  files in PROMETHEUS_MULTIPROC_DIR (set in config/settings.py before this module
  is imported) and `/metrics` adds them up. The folder must be shared by the
  processes of one deployment and emptied when it starts (`metrics_folder_reset`);
  exited processes are marked dead (`metrics_process_dead`, from gunicorn.conf.py
  and config/celery.py).
* Gauges of what the database holds (jobs by status, the due-but-not-queued
  backlog, the last tick's age, workers seen, accounts by status) are read at
  scrape time by `DatabaseCollector`: the database is the truth, and a gauge kept
  in a process would drift from it or die with the process.

The functions called from dispatch and execution (`*_observe`) only count: one
in-memory (or memory-mapped) increment each, nothing on the database.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from django.conf import settings
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from publishing import health
from publishing.heartbeats import heartbeat_tick_record, tick_last_at, workers_seen

TICK_DURATION = Histogram(
    "kairos_tick_duration_seconds",
    "How long one dispatch tick took.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TICK_JOBS = Counter(
    "kairos_tick_jobs",
    "What dispatch ticks did: jobs materialized, queued, resent, missed, recovered.",
    ["action"],
)
DISPATCH_LAG = Histogram(
    "kairos_dispatch_lag_seconds",
    "From when a job was due to be sent to when a worker started its attempt.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
ATTEMPTS = Counter(
    "kairos_publish_attempts",
    "Attempts at a network by what they came to and, for failures, the error kind.",
    ["network", "outcome", "error_kind"],
)
LATENESS = Histogram(
    "kairos_publish_lateness_seconds",
    "Publish time minus due time of each published job.",
    ["network"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 21600),
)
RATE_LIMIT_DEFERRALS = Counter(
    "kairos_rate_limit_deferrals",
    "Jobs sent back to wait for a network's rate-limit reset before an attempt.",
    ["network"],
)
RECONCILIATIONS = Counter(
    "kairos_reconciliations",
    "Look-ups of an attempt cut short, by what the job became "
    "(published, pending, failed, running: asked again, needs_review, not-claimed, claim-lost).",
    ["outcome"],
)
TOKEN_REFRESHES = Counter(
    "kairos_token_refreshes",
    "Access tokens refreshed ahead of their expiry by the scheduled refresh.",
    ["network"],
)


# --- Counting, from the processes that do the work ------------------------------------
WEBHOOK_DELIVERIES = Counter(
    "kairos_webhook_deliveries",
    "Webhook delivery attempts by outcome: delivered, retry (tried again later), failed "
    "(given up).",
    ["outcome"],
)


def tick_observe(*, result, seconds: float, now: datetime) -> None:
    """A tick finished: count what it did and how long it took, and record the heartbeat
    (at most once a heartbeat period per process: see publishing/heartbeats.py)."""
    TICK_DURATION.observe(seconds)
    for action in ("materialized", "queued", "resent", "missed", "recovered"):
        if count := getattr(result, action):
            TICK_JOBS.labels(action=action).inc(count)
    heartbeat_tick_record(now=now)


def jobs_started_observe(*, jobs: Iterable, now: datetime) -> None:
    """Claimed jobs (PublishJob) start their attempts: how long after they were due."""
    for job in jobs:
        DISPATCH_LAG.observe(max(0.0, (now - job.next_attempt_at).total_seconds()))


def rate_limit_deferrals_observe(*, jobs: Iterable, deferred: set[int]) -> None:
    for job in jobs:
        if job.pk in deferred:
            RATE_LIMIT_DEFERRALS.labels(network=job.account.network).inc()


def attempts_observe(*, finished: Sequence, outcomes: dict[int, str]) -> None:
    """Recorded attempts (execution.Finished): one count each, and the lateness of each
    job that is now published."""
    for item in finished:
        job = item.run.job
        network = job.account.network
        outcome = "claim_lost" if item.lease_lost else item.run.attempt.outcome or "unknown"
        error_kind = str(item.error.kind) if item.error is not None else "none"
        ATTEMPTS.labels(network=network, outcome=outcome, error_kind=error_kind).inc()
        if outcomes.get(job.pk) == "published":
            LATENESS.labels(network=network).observe((item.now - job.due_at).total_seconds())


def reconciliation_observe(*, outcome: str) -> None:
    RECONCILIATIONS.labels(outcome=outcome).inc()


def token_refreshes_observe(*, network: str, count: int) -> None:
    if count:
        TOKEN_REFRESHES.labels(network=network).inc(count)


# --- Process lifecycle in multi-process mode ------------------------------------------


def webhook_deliveries_observe(*, outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def metrics_folder_reset() -> None:
    """Empty the multi-process folder: call when a deployment starts, before any of its
    processes, never while they run (their counts would be lost)."""
    folder = settings.PROMETHEUS_MULTIPROC_DIR
    if not folder:
        return
    shutil.rmtree(folder, ignore_errors=True)
    Path(folder).mkdir(parents=True, exist_ok=True)


def metrics_process_dead(*, pid: int) -> None:
    """An exited process's live gauges stop counting; its counters stay in the sums."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.mark_process_dead(pid, settings.PROMETHEUS_MULTIPROC_DIR)


# --- Exposition ------------------------------------------------------------------------


class _ThisProcess:
    """Without a multi-process folder (tests, a single process), this process's counts."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class DatabaseCollector:
    """Gauges read from the database at scrape time (publishing/health.py's selectors)."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("kairos_jobs", "Publish jobs by status.", labels=["status"])
        for status, count in health.jobs_count_by_status().items():
            jobs.add_metric([status], count)
        yield jobs
        backlog = health.backlog_read(now=self.now)
        yield GaugeMetricFamily(
            "kairos_dispatch_backlog_jobs",
            "Jobs due to be sent but not yet queued (paused workspaces and accounts excluded).",
            value=backlog.count,
        )
        yield GaugeMetricFamily(
            "kairos_dispatch_backlog_oldest_seconds",
            "How long the oldest due-but-not-queued job has waited (0 when none).",
            value=backlog.oldest_seconds,
        )
        tick_at = tick_last_at()
        yield GaugeMetricFamily(
            "kairos_tick_age_seconds",
            "Seconds since the last recorded dispatch tick (+Inf when none ever ran). "
            "Recorded at most every KAIROS_HEARTBEAT_SECONDS.",
            value=(self.now - tick_at).total_seconds() if tick_at else math.inf,
        )
        yield GaugeMetricFamily(
            "kairos_workers_seen",
            "Worker processes that recorded a heartbeat recently.",
            value=len(workers_seen(now=self.now)),
        )
        accounts = GaugeMetricFamily(
            "kairos_accounts",
            "Social accounts by network and status.",
            labels=["network", "status"],
        )
        for (network, status), count in health.accounts_count_by_status().items():
            accounts.add_metric([network, status], count)
        yield accounts


def metrics_exposition(*, now: datetime) -> bytes:
    """The text Prometheus scrapes: every process's counts plus the database's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(now=now))
    return generate_latest(registry)
