"""A subgraph's request log and (opt-in) OpenTelemetry server spans.

Every subgraph logs one line per HTTP request on `kyodo.subgraphs.requests`: subgraph, request id (the
gateway's `x-request-id`, the same id the gateway logged), method, path, status, duration and, with tracing
on, the trace id. `KYODO_LOG_FORMAT=json` makes it one JSON object.

Tracing follows the standard OpenTelemetry environment and is off unless asked for:
`OTEL_TRACES_EXPORTER=otlp|console` or `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` turns it on
(`OTEL_SDK_DISABLED=true` wins); `OTEL_SERVICE_NAME` (default `kyodo-<subgraph>`), `OTEL_TRACES_SAMPLER(_ARG)`,
`OTEL_EXPORTER_OTLP_*` are read by the SDK itself. When off, no OpenTelemetry module is imported.
The server span continues the gateway's `traceparent`; its URL carries no query string and no header is
captured, so no query text, variables or tokens reach a span.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Mapping

import orjson

REQUEST_LOGGER = "kyodo.subgraphs.requests"
REQUEST_ID_HEADER = b"x-request-id"

log = logging.getLogger(REQUEST_LOGGER)


def tracing_enabled(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def install_subgraph_telemetry(app: Any, name: str, *, environ: Mapping[str, str] | None = None,
                               span_exporter: Any = None) -> Any:
    """Adds the request log and, when the environment asks (or `span_exporter` is given, as tests do),
    the tracing middleware. Returns the TracerProvider, or None with tracing off."""
    environ = os.environ if environ is None else environ
    json_lines = environ.get("KYODO_LOG_FORMAT", "").strip().lower() == "json"
    _ensure_handler()
    provider = None
    if span_exporter is not None or tracing_enabled(environ):
        provider = _tracer_provider(name, environ, span_exporter)
    # Added first, so it runs inside the server span and can log its trace id.
    app.add_middleware(RequestLogMiddleware, subgraph=name, json_lines=json_lines, traced=provider is not None)
    if provider is not None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        app.add_middleware(
            OpenTelemetryMiddleware,
            tracer_provider=provider,
            excluded_urls="health",
            exclude_spans=["receive", "send"],
            server_request_hook=_redact_url,
            http_capture_headers_server_request=[],
            http_capture_headers_server_response=[],
        )
    app.state.tracer_provider = provider
    return provider


class RequestLogMiddleware:
    """Pure ASGI (no response buffering): notes the status as it is sent, logs when the response ends."""

    def __init__(self, app: Any, subgraph: str, json_lines: bool = False, traced: bool = False) -> None:
        self.app = app
        self.subgraph = subgraph
        self.json_lines = json_lines
        self.traced = traced

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") == "/health" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            fields: dict[str, Any] = {
                "subgraph": self.subgraph,
                "request_id": _request_id(scope),
                "method": scope.get("method"),
                "path": scope.get("path"),   # the path only: a GET's query string carries the query
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            if self.traced:
                fields["trace_id"] = _trace_id()
            log.info("%s", _format(fields, self.json_lines))


def _request_id(scope: dict) -> str:
    # The same rule as subgraphs.common.context: the gateway's id, at most 64 characters.
    for key, value in scope.get("headers", ()):
        if key == REQUEST_ID_HEADER:
            return value.decode("latin-1")[:64]
    return "-"


def _trace_id() -> str | None:
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def _format(fields: dict[str, Any], json_lines: bool) -> str:
    if json_lines:
        return orjson.dumps({"event": "subgraph_request", **fields}).decode()
    return " ".join(f"{key}={'-' if value is None else value}" for key, value in fields.items())


def _ensure_handler() -> None:
    """Served by uvicorn, nothing prints INFO lines of our loggers; give this one a plain stderr handler
    unless logging is already configured (pytest's capture, an operator's dictConfig)."""
    if log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _tracer_provider(name: str, environ: Mapping[str, str], span_exporter: Any) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    # The sampler comes from OTEL_TRACES_SAMPLER(_ARG) (default: parent-based, always on).
    provider = TracerProvider(resource=Resource.create(
        {"service.name": environ.get("OTEL_SERVICE_NAME") or f"kyodo-{name}"}))
    if span_exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    elif environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _redact_url(span: Any, scope: dict) -> None:
    if span is None or not span.is_recording():
        return
    host = next((value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"host"), "")
    span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}")
