"""Log lines an operator can search: plain or JSON (KAIROS_LOG_FORMAT=json), each
carrying the fields of what it is about, and never a secret.

* `log_context(job_id=…, post_id=…)` adds fields to every line logged inside it,
  on this thread and on threads given a copy of the context (the publish path
  copies it to its network threads). Contexts nest; an inner field wins.
* `ContextFilter`, on the handler, puts the fields on each record; the JSON
  formatter writes them as keys, the plain one as `key=value` after the message.
* Both formatters redact what looks like a secret (bearer tokens, `token=…`,
  `"password": "…"` and the like) in the whole line, tracebacks included, as a
  last guard: credentials are never logged on purpose (accounts/services.py).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_fields: contextvars.ContextVar[dict[str, object]] = contextvars.ContextVar("kairos_log_fields")

REDACTED = "[redacted]"
# A secret's name, then = or : (maybe quoted), then its value up to a delimiter.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?P<name>["']?\b[\w-]*(?:token|secret|password|passwd|api[_-]?key|authorization|"""
    r"""credentials|code_verifier|cookie)["']?\s*[=:]\s*)(?P<quote>["']?)"""
    r"""(?!\[redacted\])(?:Bearer\s+|Basic\s+)?[^\s"'&,;}]+""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the values of anything that looks like a secret replaced."""
    text = _SECRET_ASSIGNMENT.sub(rf"\g<name>\g<quote>{REDACTED}", text)
    return _BEARER.sub(rf"\1 {REDACTED}", text)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Every line logged inside carries these fields (None values are left out)."""
    token = _fields.set({**_fields.get({}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _fields.reset(token)


class ReadinessAnswerFilter(logging.Filter):
    """Django logs every 5xx it answers at ERROR. `/readyz`'s 503 is the probe doing
    its job (Kairos says it cannot publish on time, with the checks that fail), not an
    error of the web process: a WARNING, so that alerts on ERROR lines stay about
    errors while a readiness outage is reported, every few seconds, by its probe."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if getattr(record, "status_code", None) == 503 and getattr(request, "path", "") == (
            "/readyz"
        ):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class ContextFilter(logging.Filter):
    """Puts the fields of the current `log_context` on each record, as `kairos_fields`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.kairos_fields = {**_fields.get({}), **getattr(record, "kairos_fields", {})}
        return True


class PlainFormatter(logging.Formatter):
    """`time level logger message key=value …`, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "kairos_fields", {})
        if fields:
            first, newline, rest = line.partition("\n")
            pairs = " ".join(f"{key}={value}" for key, value in fields.items())
            line = f"{first} {pairs}{newline}{rest}"
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the
    context's fields, and the traceback when there is one; redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "process": record.process,
            "thread": record.threadName,
            **getattr(record, "kairos_fields", {}),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)
