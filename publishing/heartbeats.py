"""Heartbeats: the dispatch tick and each worker say, in the database, that they are alive.

They live in the database because it is the source of truth and shared by every
process, on the embedded default too; Redis may lose its data, and with it
anything kept there.

The tick runs every second and its idle run costs a few milliseconds, so it must
not pay a write each time: a process records the tick at most once every
KAIROS_HEARTBEAT_SECONDS (the throttle is per process, so N worker processes
running ticks write at most N rows a period, each an upsert of the same row). A
reader therefore sees the last tick up to one period late, and health counts a
tick as stalled only past that period plus a few tick periods
(`tick_stale_after`).

Workers record themselves from a thread of their main process (config/celery.py)
every period, busy or idle, and remove their row when they stop cleanly; the row
of a killed worker just ages out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from publishing.models import Heartbeat

logger = logging.getLogger(__name__)

TICK = "dispatch"
# Rows of workers not seen for this long are deleted (killed workers leave theirs).
WORKER_FORGET_AFTER = timedelta(hours=1)

_tick_recorded_at: float | None = None


def tick_stale_after() -> timedelta:
    """How old the last recorded tick may be before health calls the tick stalled."""
    return timedelta(seconds=settings.KAIROS_HEARTBEAT_SECONDS + 5 * settings.KAIROS_TICK_SECONDS)


def worker_stale_after() -> timedelta:
    """How long since a worker last recorded itself before it counts as gone."""
    return timedelta(seconds=3 * settings.KAIROS_HEARTBEAT_SECONDS)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _upsert(*, kind: str, name: str, now: datetime) -> None:
    # One INSERT … ON CONFLICT DO UPDATE on PostgreSQL and SQLite: no read, no race.
    Heartbeat.objects.bulk_create(
        [Heartbeat(kind=kind, name=name, seen_at=now)],
        update_conflicts=True,
        unique_fields=["kind", "name"],
        update_fields=["seen_at"],
    )


def heartbeat_tick_record(*, now: datetime) -> bool:
    """Record that a tick ran at `now`, unless this process did so less than a heartbeat
    period ago. Returns whether it wrote."""
    global _tick_recorded_at
    clock = time.monotonic()
    if (
        _tick_recorded_at is not None
        and clock - _tick_recorded_at < settings.KAIROS_HEARTBEAT_SECONDS
    ):
        return False
    _upsert(kind=Heartbeat.Kind.TICK, name=TICK, now=now)
    _tick_recorded_at = clock
    return True


def heartbeat_worker_record(*, name: str, now: datetime) -> None:
    """Record that the worker `name` is alive, and forget workers long gone."""
    _upsert(kind=Heartbeat.Kind.WORKER, name=name, now=now)
    Heartbeat.objects.filter(
        kind=Heartbeat.Kind.WORKER, seen_at__lt=now - WORKER_FORGET_AFTER
    ).delete()


def heartbeat_worker_forget(*, name: str) -> None:
    """A worker stopping cleanly is no longer counted as seen."""
    Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER, name=name).delete()


def tick_last_at() -> datetime | None:
    return (
        Heartbeat.objects.filter(kind=Heartbeat.Kind.TICK, name=TICK)
        .values_list("seen_at", flat=True)
        .first()
    )


def workers_seen(*, now: datetime) -> list[Heartbeat]:
    """The workers that recorded themselves recently, most recently seen first."""
    return list(
        Heartbeat.objects.filter(
            kind=Heartbeat.Kind.WORKER, seen_at__gte=now - worker_stale_after()
        ).order_by("-seen_at", "name")
    )


# --- A worker's own heartbeat (started and stopped by config/celery.py) -----------------

_worker_thread: threading.Thread | None = None
_worker_stopping = threading.Event()


def worker_heartbeat_start() -> threading.Thread:
    """Record this worker process every heartbeat period from a daemon thread, idle or not.

    The thread has its own database connection, closed after each write so that a
    restarted database costs one missed beat, not a dead thread.
    """
    global _worker_thread
    name = worker_name()
    _worker_stopping.clear()

    def beat() -> None:
        while not _worker_stopping.is_set():
            try:
                heartbeat_worker_record(name=name, now=timezone.now())
            except Exception:
                # Health shows the worker as gone; the worker itself carries on.
                logger.warning("could not record the heartbeat of %s", name, exc_info=True)
            finally:
                connection.close()
            _worker_stopping.wait(settings.KAIROS_HEARTBEAT_SECONDS)

    _worker_thread = threading.Thread(target=beat, name="kairos-heartbeat", daemon=True)
    _worker_thread.start()
    return _worker_thread


def worker_heartbeat_stop() -> None:
    """Stop the thread, then remove this worker's row: it is not seen any more."""
    _worker_stopping.set()
    if _worker_thread is not None:
        _worker_thread.join(timeout=settings.KAIROS_HEARTBEAT_SECONDS + 5)
    try:
        heartbeat_worker_forget(name=worker_name())
    except Exception:
        logger.warning("could not remove the heartbeat of %s", worker_name(), exc_info=True)
