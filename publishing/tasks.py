"""Celery's doorways into publishing. Each loads ids, calls a service, and decides nothing."""

from celery import shared_task

from publishing import dispatch, execution, metrics


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
