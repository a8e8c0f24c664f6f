"""What a log line of the publish path says it is about (config/logs.py carries it)."""

from contextlib import AbstractContextManager

from config.logs import log_context
from publishing.models import PublishJob


def job_log_context(*, job: PublishJob) -> AbstractContextManager[None]:
    """Lines logged inside carry the job, its post, account, network and attempt number
    (the job's account loaded, its attempt count as claimed)."""
    return log_context(
        job_id=job.pk,
        post_id=job.post_id,
        account_id=job.account_id,
        account=f"@{job.account.handle}",
        network=job.account.network,
        attempt=job.attempt_count,
    )
