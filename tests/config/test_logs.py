import json
import logging
import sys
from types import SimpleNamespace

import pytest

from config.logs import (
    ContextFilter,
    JsonFormatter,
    PlainFormatter,
    ReadinessAnswerFilter,
    log_context,
    redact,
)


def _record(message: str, *args, exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord("kairos.test", logging.INFO, __file__, 1, message, args, exc_info)
    ContextFilter().filter(record)
    return record


def test_a_json_line_carries_the_fields_of_its_context():
    with log_context(job_id=7, post_id=3), log_context(network="sandbox", attempt=2, post_id=4):
        line = JsonFormatter().format(_record("job %s published", 7))

    entry = json.loads(line)
    assert entry["message"] == "job 7 published"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "kairos.test"
    assert entry["time"].endswith("+00:00")
    assert {k: entry[k] for k in ("job_id", "post_id", "network", "attempt")} == {
        "job_id": 7,
        "post_id": 4,
        "network": "sandbox",
        "attempt": 2,
    }


def test_fields_end_with_their_context():
    with log_context(job_id=7):
        pass

    assert "job_id" not in json.loads(JsonFormatter().format(_record("tick")))


def test_a_plain_line_ends_with_its_fields():
    with log_context(job_id=7, network="x"):
        line = PlainFormatter("%(levelname)s %(message)s").format(_record("published"))

    assert line == "INFO published job_id=7 network=x"


def test_secrets_are_redacted_in_messages_and_tracebacks():
    try:
        raise ValueError("refresh_token=abc123def refused")
    except ValueError:
        record = _record(
            'answer {"access_token": "s3cr3t-value", "expires_in": 7200} with %s',
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload",
            exc_info=sys.exc_info(),
        )

    for line in (JsonFormatter().format(record), PlainFormatter().format(record)):
        assert "s3cr3t-value" not in line
        assert "eyJhbGciOiJIUzI1NiJ9" not in line
        assert "abc123def" not in line
        assert "[redacted]" in line
    assert "7200" in JsonFormatter().format(record)


def test_redact_leaves_ordinary_words_alone():
    text = "job 12 published to @brand after 2 attempts; tokens refreshed: 3"

    assert redact(text) == text
    assert redact("client_secret=abc&code=x") == "client_secret=[redacted]&code=x"
    assert redact("password: 'hunter2'") == "password: '[redacted]'"


@pytest.mark.django_db
def test_readyz_answering_503_is_a_warning_not_an_error(client, caplog):
    with caplog.at_level(logging.INFO, logger="django.request"):
        assert client.get("/readyz").status_code == 503  # no tick, no worker here
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert (record.levelname, record.getMessage()) == ("WARNING", "Service Unavailable: /readyz")


def test_other_5xx_answers_stay_errors():
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", None, None)
    record.status_code, record.request = 503, SimpleNamespace(path="/api/v1/posts/")
    assert ReadinessAnswerFilter().filter(record) and record.levelname == "ERROR"
