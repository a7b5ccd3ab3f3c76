"""OpenTelemetry tracing ([telemetry] enabled = true); off, this module is never imported.

One trace holds: the server span of the HTTP request (continuing a client's `traceparent`, from the
ASGI middleware `install` adds), `graphql.validate`, `graphql.authorize`, `graphql.plan` (cache
misses only), `graphql.execute`, and one `subgraph.fetch` client span per subgraph request whose
context is sent to the subgraph as W3C `traceparent`. Span attributes are limited to operation name
and type, subgraph name and status: never the query text, variables, tokens or response data (the
server span's URL is stripped of its query string, which carries the query and variables on GET).

Each stage's span is started by its `_start` hook and made current (so the fetch spans are children
of `graphql.execute`), and ended by the hook after the stage; both run in the request's task.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from gateway.plugins.protocol import (
    AuthorizationEvent,
    DocumentEvent,
    ExecutionEvent,
    HttpResponse,
    PlanEvent,
    RequestState,
    SubgraphRequest,
    SubgraphResponse,
)
from gateway.settings import TelemetrySettings

_NOTE = "tracing"


def redact_url(span: Any, scope: dict) -> None:
    """ASGI server-request hook: the URL's query string (GraphQL query, variables on GET) never reaches a span."""
    if span is None or not span.is_recording():
        return
    host = next((value.decode("latin-1") for key, value in scope.get("headers", ()) if key == b"host"), "")
    span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{scope.get('path', '')}")


class TracingPlugin:
    name = "tracing"

    def __init__(self, settings: TelemetrySettings, *, span_exporter: Any = None) -> None:
        """`span_exporter` replaces the configured exporter (tests pass an in-memory one)."""
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

    def install(self, app: Any) -> None:
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

    # -- stage spans ------------------------------------------------------------------------------

    def _start(self, state: RequestState, stage: str, name: str) -> None:
        span = self.tracer.start_span(name)
        token = otel_context.attach(trace.set_span_in_context(span))
        state.notes.setdefault(_NOTE, {})[stage] = (span, token)

    def _end(self, state: RequestState, stage: str, error: BaseException | None) -> None:
        started = state.notes.get(_NOTE, {}).pop(stage, None)
        if started is None:
            return
        span, token = started
        otel_context.detach(token)
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
        span.end()

    async def document_start(self, state: RequestState) -> None:
        self._start(state, "document", "graphql.validate")

    async def document(self, event: DocumentEvent) -> None:
        self._end(event.state, "document", event.error)

    async def authorization_start(self, state: RequestState) -> None:
        self._start(state, "authorization", "graphql.authorize")

    async def authorization(self, event: AuthorizationEvent) -> None:
        self._end(event.state, "authorization", event.error)

    async def plan_start(self, state: RequestState) -> None:
        self._start(state, "plan", "graphql.plan")

    async def plan(self, event: PlanEvent) -> None:
        if not event.cached:
            self._end(event.state, "plan", event.error)

    async def execution_start(self, state: RequestState) -> None:
        self._start(state, "execution", "graphql.execute")

    async def execution(self, event: ExecutionEvent) -> None:
        self._end(event.state, "execution", event.error)

    # -- subgraph fetches -------------------------------------------------------------------------

    async def subgraph_request(self, event: SubgraphRequest) -> None:
        span = self.tracer.start_span(
            "subgraph.fetch", kind=trace.SpanKind.CLIENT, attributes={"kyodo.subgraph.name": event.subgraph}
        )
        event.notes[_NOTE] = span
        # The subgraph's server span becomes this span's child.
        propagate.inject(event.headers, context=trace.set_span_in_context(span))

    async def subgraph_response(self, event: SubgraphResponse) -> None:
        span = event.request.notes.pop(_NOTE, None)
        if span is None:
            return
        if event.error is not None:
            span.set_attribute("error.type", type(event.error).__name__)
        elif event.result and event.result.get("errors"):
            span.set_attribute("kyodo.subgraph.errors", len(event.result["errors"]))
        span.end()

    # -- the server span --------------------------------------------------------------------------

    async def http_response(self, event: HttpResponse) -> None:
        span = trace.get_current_span()
        state = event.state
        if span.is_recording():
            if state.operation_name:
                span.set_attribute("graphql.operation.name", state.operation_name)
            if state.operation_type:
                span.set_attribute("graphql.operation.type", state.operation_type)
        span_context = span.get_span_context()
        if span_context.is_valid:
            state.log_fields["trace_id"] = format(span_context.trace_id, "032x")


def _exporter(settings: TelemetrySettings) -> Any:
    if settings.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter(service_name=settings.service_name)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.otlp_endpoint or None)
