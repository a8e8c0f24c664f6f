import logging

import pytest

from config.logs import ContextFilter
from publishing import networks
from publishing.execution import job_execute
from publishing.models import JobStatus as S
from tests.factories import PublishJobFactory

pytestmark = pytest.mark.django_db


class Collected(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def collected():
    handler = Collected()
    logger = logging.getLogger("publishing")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def test_a_line_of_the_publish_path_says_which_job_post_account_network_and_attempt(
    collected, monkeypatch
):
    job = PublishJobFactory(status=S.QUEUED)
    sandbox = networks.adapter_for("sandbox")

    def explode(request, **callbacks):
        raise KeyError("data")

    monkeypatch.setattr(sandbox, "publish", explode)

    job_execute(job_id=job.pk)

    record = next(r for r in collected if "unexpected error" in r.getMessage())
    assert record.kairos_fields == {
        "job_id": job.pk,
        "post_id": job.post_id,
        "account_id": job.account_id,
        "account": f"@{job.account.handle}",
        "network": "sandbox",
        "attempt": 1,
    }
