"""Celery's doorway into analytics. It calls a service and decides nothing."""

from celery import shared_task
from django.utils import timezone

from analytics import retention, services


@shared_task(name="analytics.tasks.metrics_collect", ignore_result=True)
def metrics_collect() -> int:
    return services.metrics_collect_due(now=timezone.now())


@shared_task(name="analytics.tasks.retention_cleanup", ignore_result=True)
def retention_cleanup() -> dict[str, int]:
    deleted = {}
    for progress in retention.retention_purge(now=timezone.now()):
        deleted[progress.kind] = progress.deleted
    return deleted
