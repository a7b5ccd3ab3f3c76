"""What operators see of each gateway request: a request id, one log line, and (opt-in) OpenTelemetry spans.

`GatewayTelemetry(settings.telemetry)` is built by the app. With `[telemetry] enabled = false` (the default)
no OpenTelemetry module is imported and nothing is instrumented: the hot path only pays for the request id
and the log line (`request_log = false` drops that too).

With tracing on, one trace holds: the server span of the HTTP request (continuing a client's `traceparent`),
`graphql.validate`, `graphql.authorize`, `graphql.plan` (cache misses only), `graphql.execute`, and one
`subgraph.fetch` client span per subgraph request whose context is sent to the subgraph as W3C `traceparent`
through the fetcher's `headers_for` hook. Span attributes are limited to operation name and type, subgraph
name and status: never the query text, variables, tokens or response data (the server span's URL is
stripped of its query string, which carries the query and variables on GET).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import orjson

from gateway.document import GraphQLRequestError, select_operation
from gateway.settings import SettingsError, TelemetrySettings

REQUEST_ID_HEADER = "x-request-id"
REQUEST_LOGGER = "kyodo.gateway.requests"
# A client's id is kept only if it is short and plain, so it cannot forge log lines or carry data.
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
EXPORTERS = ("otlp", "console")
LOG_FORMATS = ("text", "json")

log = logging.getLogger(REQUEST_LOGGER)


class TelemetryError(SettingsError):
    """Telemetry settings that cannot be used."""


def check_settings(settings: TelemetrySettings) -> None:
    if settings.exporter not in EXPORTERS:
        raise TelemetryError(f"telemetry.exporter must be one of {', '.join(EXPORTERS)}")
    if settings.log_format not in LOG_FORMATS:
        raise TelemetryError(f"telemetry.log_format must be one of {', '.join(LOG_FORMATS)}")
    if not 0 < settings.sampling_ratio <= 1:
        raise TelemetryError("telemetry.sampling_ratio must be in (0, 1]")


def request_id_from(headers: Mapping[str, str]) -> str:
    """The client's (or an upstream proxy's) `x-request-id` when acceptable, else a new one."""
    given = headers.get(REQUEST_ID_HEADER)
    if given and _ACCEPTED_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


@dataclass
class RequestRecord:
    """What the log line says about one GraphQL request; filled in as the request goes."""

    request_id: str
    started: float
    requested_operation: str | None = None   # the client's operationName
    document: Any = None                     # the ValidDocument the pipeline looked up
    subgraph_calls: int = 0

    def operation(self) -> tuple[str | None, str | None]:
        """(name, type) of the operation run; (None, None) when the request never got that far."""
        if self.document is None:
            return None, None
        try:
            operation = select_operation(self.document, self.requested_operation)
        except GraphQLRequestError:
            return self.requested_operation, None
        return (operation.name.value if operation.name else None), operation.operation.value


# The record of the request being answered; fetch tasks inherit it (asyncio copies the context).
_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar("kyodo_request", default=None)


class GatewayTelemetry:
    def __init__(self, settings: TelemetrySettings, *, span_exporter: Any = None) -> None:
        """`span_exporter` replaces the configured exporter (tests pass an in-memory one)."""
        check_settings(settings)
        self.settings = settings
        self.tracing: Tracing | None = Tracing(settings, span_exporter) if settings.enabled else None

    # -- per request ------------------------------------------------------------------------------

    def begin(self, headers: Mapping[str, str]) -> RequestRecord:
        record = RequestRecord(request_id_from(headers), time.perf_counter())
        _current.set(record)
        return record

    @staticmethod
    def note_request(operation_name: str | None) -> None:
        record = _current.get()
        if record is not None:
            record.requested_operation = operation_name

    def finish(self, record: RequestRecord, response: Any) -> None:
        response.headers[REQUEST_ID_HEADER] = record.request_id
        logging_on = self.settings.request_log and log.isEnabledFor(logging.INFO)
        if not logging_on and self.tracing is None:
            return
        name, operation_type = record.operation()
        if self.tracing is not None:
            self.tracing.describe_request(name, operation_type)
        if not logging_on:
            return
        fields: dict[str, Any] = {
            "request_id": record.request_id,
            "operation_name": name,
            "operation_type": operation_type,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - record.started) * 1000, 2),
            "subgraph_calls": record.subgraph_calls,
        }
        if self.tracing is not None:
            fields["trace_id"] = self.tracing.current_trace_id()
        log.info("%s", format_log_line(fields, self.settings.log_format))

    def subgraph_headers(self) -> dict[str, str]:
        """Added to every subgraph fetch: the request id and, with tracing on, `traceparent`."""
        record = _current.get()
        headers: dict[str, str] = {}
        if record is not None:
            record.subgraph_calls += 1
            headers[REQUEST_ID_HEADER] = record.request_id
        if self.tracing is not None:
            self.tracing.inject(headers)
        return headers

    # -- instrumentation, installed only with tracing on -------------------------------------------

    def install(self, app: Any) -> None:
        if self.tracing is not None:
            self.tracing.install_server_spans(app)

    def pipeline_options(self, authorizer: Any) -> dict[str, Any]:
        """Keyword arguments for `Pipeline(...)`: the stages, wrapped in spans when tracing is on."""
        if self.tracing is None:
            return {"authorizer": authorizer}
        return self.tracing.pipeline_options(authorizer)

    def instrument_documents(self, documents: Any) -> None:
        """The document lookup notes the document on the request record (for the operation's name and
        type) and, with tracing on, runs in a `graphql.validate` span."""
        lookup = documents.get
        if self.tracing is not None:
            lookup = self.tracing.traced_sync("graphql.validate", lookup)

        def get(text: str) -> Any:
            valid = lookup(text)
            record = _current.get()
            if record is not None:
                record.document = valid
            return valid

        documents.get = get

    def wrap_fetcher(self, fetcher: Any, names: Mapping[str, str]) -> Any:
        if self.tracing is None:
            return fetcher
        return TracedFetcher(fetcher, names, self.tracing)


def format_log_line(fields: dict[str, Any], log_format: str) -> str:
    if log_format == "json":
        return orjson.dumps({"event": "graphql_request", **fields}).decode()
    return " ".join(f"{key}={'-' if value is None else value}" for key, value in fields.items())


def configure_request_log(settings: TelemetrySettings) -> None:
    """For `kyodo serve`: the request lines go to stderr as they are (text or one JSON object)."""
    logger = logging.getLogger(REQUEST_LOGGER)
    if not settings.request_log or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def redact_url(span: Any, scope: dict) -> None:
    """ASGI server-request hook: the URL's query string (GraphQL query, variables on GET) never reaches a span."""
    if span is None or not span.is_recording():
        return
    host = next((value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"host"), "")
    span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}")


class Tracing:
    """The OpenTelemetry side; its modules are imported only when this is built."""

    def __init__(self, settings: TelemetrySettings, span_exporter: Any = None) -> None:
        from opentelemetry import propagate, trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        self._trace = trace
        self._propagate = propagate
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": settings.service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.sampling_ratio)),
        )
        if span_exporter is not None:
            self.provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        else:
            # Batched off the request path; the provider flushes at interpreter exit.
            self.provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
        self.tracer = self.provider.get_tracer("kyodo.gateway")
        self._client_kind = trace.SpanKind.CLIENT

    def install_server_spans(self, app: Any) -> None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        app.add_middleware(
            OpenTelemetryMiddleware,
            tracer_provider=self.provider,
            excluded_urls="health,healthcheck,metrics",
            exclude_spans=["receive", "send"],
            server_request_hook=redact_url,
            http_capture_headers_server_request=[],
            http_capture_headers_server_response=[],
        )

    def describe_request(self, name: str | None, operation_type: str | None) -> None:
        span = self._trace.get_current_span()
        if span.is_recording():
            if name:
                span.set_attribute("graphql.operation.name", name)
            if operation_type:
                span.set_attribute("graphql.operation.type", operation_type)

    def current_trace_id(self) -> str | None:
        context = self._trace.get_current_span().get_span_context()
        return format(context.trace_id, "032x") if context.is_valid else None

    def inject(self, headers: dict[str, str]) -> None:
        self._propagate.inject(headers)

    def traced_sync(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        tracer = self.tracer

        def traced(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(name):
                return function(*args, **kwargs)

        return traced

    def pipeline_options(self, authorizer: Any) -> dict[str, Any]:
        tracer = self.tracer

        def build_plan(*args: Any, **kwargs: Any) -> Any:
            from gateway.planner import build_plan as plan

            with tracer.start_as_current_span("graphql.plan"):
                return plan(*args, **kwargs)

        async def execute_plan(*args: Any, **kwargs: Any) -> dict:
            from gateway.executor import execute_plan as execute

            with tracer.start_as_current_span("graphql.execute"):
                return await execute(*args, **kwargs)

        options: dict[str, Any] = {"build_plan": build_plan, "execute_plan": execute_plan, "authorizer": None}
        if authorizer is not None:
            async def authorize(*args: Any) -> Any:
                with tracer.start_as_current_span("graphql.authorize"):
                    outcome = authorizer(*args)
                    if hasattr(outcome, "__await__"):
                        outcome = await outcome
                    return outcome

            options["authorizer"] = authorize
        return options


class TracedFetcher:
    """One CLIENT span per subgraph fetch; the inner fetcher's `headers_for` runs inside it, so the
    `traceparent` it sends names this span as the subgraph's parent."""

    def __init__(self, inner: Any, names: Mapping[str, str], tracing: Tracing) -> None:
        self.inner = inner
        self.names = names
        self.tracing = tracing

    async def fetch(self, subgraph: str, query: str, variables: dict | None, operation_name: str | None) -> dict:
        name = self.names.get(subgraph, subgraph)
        tracer = self.tracing.tracer
        with tracer.start_as_current_span(
            "subgraph.fetch", kind=self.tracing._client_kind, attributes={"kyodo.subgraph.name": name}
        ) as span:
            result = await self.inner.fetch(subgraph, query, variables, operation_name)
            if isinstance(result, dict) and result.get("errors"):
                span.set_attribute("kyodo.subgraph.errors", len(result["errors"]))
            return result


def _exporter(settings: TelemetrySettings) -> Any:
    if settings.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(service_name=settings.service_name)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otlp_endpoint or None)
