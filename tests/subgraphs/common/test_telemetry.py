from __future__ import annotations

import logging

import httpx
import orjson
import pytest
import strawberry
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.telemetry import REQUEST_LOGGER, RequestLogMiddleware, tracing_enabled

GATEWAY_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
GATEWAY_SPAN = "00f067aa0ba902b7"


@strawberry.type
class Query:
    @strawberry.field
    def greet(self, name: str) -> str:
        return f"hello {name}"


schema = strawberry.federation.Schema(query=Query)


def _app(tmp_path):  # noqa: ANN001, ANN202
    return create_subgraph_app("test", schema, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.sqlite")


async def _send(app, method: str = "POST", **kwargs) -> httpx.Response:  # noqa: ANN001
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
        return await client.request(method, "/graphql", **kwargs)


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "kyodo-identity"}, False),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_tracing_follows_the_standard_environment(environ, enabled):
    assert tracing_enabled(environ) is enabled


def test_every_subgraph_gets_the_request_log_and_no_tracing_by_default(tmp_path, monkeypatch):
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    app = _app(tmp_path)
    classes = [m.cls for m in app.user_middleware]
    assert RequestLogMiddleware in classes
    assert not any("OpenTelemetry" in c.__name__ for c in classes)
    assert app.state.tracer_provider is None


def test_environment_turns_tracing_on(tmp_path, monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "kyodo-identity-test")
    app = _app(tmp_path)
    try:
        assert any("OpenTelemetry" in m.cls.__name__ for m in app.user_middleware)
        assert app.state.tracer_provider.resource.attributes["service.name"] == "kyodo-identity-test"
    finally:
        app.state.tracer_provider.shutdown()


async def test_request_log_line_carries_the_gateways_request_id(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("KYODO_LOG_FORMAT", "json")
    app = _app(tmp_path)
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        response = await _send(app, json={"query": "query($n: String!) { greet(name: $n) }",
                                          "variables": {"n": "Sato Hanako"}},
                               headers={"x-request-id": "req-7"})
        await _send(app, "GET", params={"query": '{ greet(name: "Sato Hanako") }'}, headers={"x-request-id": "req-8"})
    assert response.json() == {"data": {"greet": "hello Sato Hanako"}}
    lines = [r.getMessage() for r in caplog.records if r.name == REQUEST_LOGGER]
    assert len(lines) == 2
    first, second = (orjson.loads(line) for line in lines)
    assert first["event"] == "subgraph_request"
    assert (first["subgraph"], first["request_id"], first["method"], first["path"], first["status"]) == (
        "test", "req-7", "POST", "/graphql", 200)
    assert (second["request_id"], second["method"], second["path"]) == ("req-8", "GET", "/graphql")
    assert "trace_id" not in first
    assert all("Sato" not in line and "greet" not in line for line in lines)


async def test_subgraph_continues_the_gateways_trace(tmp_path):
    from starlette.applications import Starlette
    from starlette.routing import Route
    from strawberry.asgi import GraphQL

    from subgraphs.common.telemetry import install_subgraph_telemetry

    spans = InMemorySpanExporter()
    app = Starlette(routes=[Route("/graphql", GraphQL(schema, graphql_ide=None), methods=["GET", "POST"])])
    install_subgraph_telemetry(app, "childcare", environ={}, span_exporter=spans)
    response = await _send(
        app, "GET", params={"query": '{ greet(name: "Sato Hanako") }'},
        headers={"traceparent": f"00-{GATEWAY_TRACE}-{GATEWAY_SPAN}-01", "authorization": "Bearer tok-55"},
    )
    assert response.status_code == 200
    (server,) = spans.get_finished_spans()
    assert format(server.context.trace_id, "032x") == GATEWAY_TRACE
    assert format(server.parent.span_id, "016x") == GATEWAY_SPAN
    assert server.resource.attributes["service.name"] == "kyodo-childcare"
    text = " ".join(f"{k}={v}" for k, v in server.attributes.items())
    assert "Sato" not in text and "greet" not in text and "tok-55" not in text
