"""Celery's doorways into publishing. Each loads ids, calls a service, and decides nothing."""

from celery import shared_task
from django.utils import timezone

from publishing import dispatch, events, execution, metrics, webhooks


@shared_task(name="publishing.tasks.dispatch_tick", ignore_result=True)
def dispatch_tick() -> str:
    return str(dispatch.tick())


@shared_task(
    name="publishing.tasks.publish_jobs",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=False,
)
def publish_jobs(job_ids: list[int]) -> str:
    outcomes = execution.jobs_execute(job_ids=job_ids)
    return ", ".join(f"{job_id}: {outcome}" for job_id, outcome in outcomes.items())


# Messages sent by Kairos before batches (one job each) may still wait in a broker
# during an upgrade; they run as batches of one.
@shared_task(
    name="publishing.tasks.publish_job",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=False,
)
def publish_job(job_id: int) -> str:
    return execution.job_execute(job_id=job_id)


@shared_task(
    name="publishing.tasks.reconcile_job",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=False,
)
def reconcile_job(job_id: int, token: int) -> str:
    outcome = execution.job_reconcile(job_id=job_id, token=token)
    metrics.reconciliation_observe(outcome=outcome)
    return outcome


@shared_task(name="publishing.tasks.events_fan_out", ignore_result=True)
def events_fan_out() -> int:
    return events.events_fan_out_all()


@shared_task(name="publishing.tasks.events_sweep", ignore_result=True)
def events_sweep() -> int:
    """What the doorbells missed: events not fanned out, deliveries due (retries too)."""
    events.events_fan_out_all()
    due = webhooks.webhook_deliveries_due(now=timezone.now())
    webhooks.webhook_deliveries_send(due)
    return len(due)


@shared_task(name="publishing.tasks.webhook_deliver", ignore_result=True, acks_late=True)
def webhook_deliver(delivery_id: int) -> str:
    return webhooks.webhook_deliver(delivery_id=delivery_id)
