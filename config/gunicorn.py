"""gunicorn's settings when `manage.py runkairos` starts it (`--config python:config.gunicorn`).

Its own lines and its access log go through Kairos's formatters: plain or JSON
(KAIROS_LOG_FORMAT), with the same redaction. An access line names the path
without its query string nor the referrer, which may carry an OAuth code.
"""

import os

LOG_FORMAT = os.environ.get("KAIROS_LOG_FORMAT", "plain")

accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logs.ContextFilter"}},
    "formatters": {
        "plain": {
            "()": "config.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("plain", "json") else "plain",
            "filters": ["context"],
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
