"""Optional OpenTelemetry traces of web requests and Celery tasks.

Off by default: without OTEL_EXPORTER_OTLP_ENDPOINT nothing imports OpenTelemetry,
which then need not be installed at all. With it (`pip install -r
requirements-otel.txt`, an endpoint such as http://collector:4318), each web
process and each Celery pool process sends its spans there over OTLP/HTTP:
one per request, one per task run and one per task sent, linked into one trace.
OTEL_SERVICE_NAME and the SDK's other OTEL_* variables apply as usual.

A span keeps a request's path but never its query string, which may carry an
OAuth code (the X callback); headers are not recorded.
"""

from __future__ import annotations

from typing import Any


def tracing_setup(*, service_name: str, exporter: Any = None) -> None:
    """Send this process's spans to the OTLP endpoint (or to `exporter`, for tests)."""
    import os

    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider, request_hook=_without_query)
    CeleryInstrumentor().instrument(tracer_provider=provider)


def _without_query(span, request) -> None:
    """The instrumentation records the full request target; keep what precedes the query."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in ("http.target", "http.url", "url.full"):
        if key in attributes:
            span.set_attribute(key, str(attributes[key]).split("?", 1)[0])
    if "url.query" in attributes:
        span.set_attribute("url.query", "")
