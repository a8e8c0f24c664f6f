"""Celery's doorway into analytics. It calls a service and decides nothing."""

from celery import shared_task
from django.utils import timezone

from analytics import services


@shared_task(name="analytics.tasks.metrics_collect", ignore_result=True)
def metrics_collect() -> int:
    return services.metrics_collect_due(now=timezone.now())
