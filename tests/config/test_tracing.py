"""Traces are off, and OpenTelemetry not even imported, unless an OTLP endpoint is set;
each check runs in a fresh interpreter, since instrumenting is for a whole process."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TRACE_A_REQUEST_AND_A_TASK = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry import trace
    from config.tracing import tracing_setup

    exporter = InMemorySpanExporter()
    tracing_setup(service_name="kairos-test", exporter=exporter)
    from django.test import Client
    from config.celery import app

    @app.task(name="kairos.test.ping")
    def ping():
        return "pong"

    Client(HTTP_HOST="127.0.0.1").get("/?code=an-oauth-code&state=s")
    ping.apply()
    trace.get_tracer_provider().force_flush()
    print(json.dumps([
        {"name": span.name, "attributes": dict(span.attributes),
         "service": span.resource.attributes["service.name"]}
        for span in exporter.get_finished_spans()
    ]))
    """
)


def _python(code: str, tmp_path: Path, **env: str) -> str:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DATABASE_URL"))
    }
    environment |= {"KAIROS_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    environment |= env
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_without_an_endpoint_nothing_imports_opentelemetry(tmp_path):
    code = (
        "import sys, config.wsgi, config.celery; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )

    assert _python(code, tmp_path) == "[]"


def test_requests_and_tasks_are_traced_without_query_strings(tmp_path):
    spans = json.loads(_python(TRACE_A_REQUEST_AND_A_TASK, tmp_path))

    names = [span["name"] for span in spans]
    assert any(name.startswith("GET") for name in names), names
    assert any("kairos.test.ping" in name for name in names), names
    assert {span["service"] for span in spans} == {"kairos-test"}
    assert "an-oauth-code" not in json.dumps(spans)
