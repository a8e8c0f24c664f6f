import importlib
import logging.config

import pytest

from config import gunicorn


@pytest.fixture
def gunicorn_config(monkeypatch):
    def load(log_format: str):
        monkeypatch.setenv("KAIROS_LOG_FORMAT", log_format)
        return importlib.reload(gunicorn)

    yield load
    monkeypatch.delenv("KAIROS_LOG_FORMAT")
    importlib.reload(gunicorn)


def test_gunicorn_logs_json_like_kairos_when_asked(gunicorn_config):
    config = gunicorn_config("json")

    assert config.logconfig_dict["handlers"]["console"]["formatter"] == "json"
    logging.config.dictConfig(config.logconfig_dict)


def test_access_lines_leave_out_query_strings_and_referrers(gunicorn_config):
    config = gunicorn_config("plain")

    assert "%(U)s" in config.access_log_format
    assert "%(r)s" not in config.access_log_format
    assert "%(q)s" not in config.access_log_format
    assert "%(f)s" not in config.access_log_format
