"""The Celery app. Its settings live in config/settings.py under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import (
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kairos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _database_connections_check(**kwargs) -> None:
    """Retire a connection past CONN_MAX_AGE, or broken (a restarted server), before each
    task, as Django does around each request."""
    from django.db import close_old_connections

    close_old_connections()


@worker_ready.connect
def _worker_heartbeat_start(**kwargs) -> None:
    """A worker is seen by /readyz and kairos_status while its main process runs."""
    from publishing.heartbeats import worker_heartbeat_start

    worker_heartbeat_start()


@worker_shutdown.connect
def _worker_heartbeat_stop(**kwargs) -> None:
    from publishing.heartbeats import worker_heartbeat_stop

    worker_heartbeat_stop()


@worker_process_shutdown.connect
def _metrics_process_dead(pid=None, **kwargs) -> None:
    """A pool process exits: prometheus-client stops counting its live gauges."""
    from publishing.metrics import metrics_process_dead

    metrics_process_dead(pid=pid or os.getpid())


@worker_process_init.connect
def _tracing_in_pool_process(**kwargs) -> None:
    """Each pool process sends its own spans (an exporter's thread does not survive a fork)."""
    from django.conf import settings

    if settings.KAIROS_OTLP_ENDPOINT:
        from config.tracing import tracing_setup

        tracing_setup(service_name="kairos-worker")
