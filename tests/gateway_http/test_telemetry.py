"""Tracing, request ids and the request log, through the gateway to a real subgraph on a loopback port."""

from __future__ import annotations

import logging
import re
from typing import Any, Iterator

import orjson
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.http import create_app
from gateway.plugins.request_log import REQUEST_LOGGER
from gateway.settings import Settings, SettingsError, TelemetrySettings, settings_from_mapping
from gateway.supergraph import load_supergraph
from subgraphs.common.telemetry import install_subgraph_telemetry
from tests.gateway_http.servers import ThreadedServer
from tests.gateway_http.things_subgraph import things_app, things_supergraph

# Personal data a request carries: none of it may appear in a span attribute or a log line.
RESIDENT_NAME = "Yamada Taro 2815"
TOKEN = "Bearer secret-token-93ab"
QUERY = "query Greet($name: String!) { hello(name: $name) headers: receivedHeaders { name value } }"


@pytest.fixture(scope="module")
def subgraph_spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
def traced_subgraph(subgraph_spans: InMemorySpanExporter) -> Iterator[ThreadedServer]:
    """The things subgraph behind the same telemetry every kyodo subgraph gets, tracing on."""
    app = Starlette(routes=[Route("/graphql", things_app(), methods=["GET", "POST"])])
    install_subgraph_telemetry(app, "things", environ={}, span_exporter=subgraph_spans)
    with ThreadedServer(app, lifespan="off") as server:
        yield server


async def _accept_any_token(request: Any) -> None:
    """These tests send a bearer token only to show it never reaches a span or a log line."""
    return None


def _client(settings: Settings, subgraph_url: str, span_exporter: InMemorySpanExporter | None = None) -> TestClient:
    supergraph = load_supergraph(things_supergraph(subgraph_url + "/graphql"))
    app = create_app(settings, supergraph, authenticator=_accept_any_token, span_exporter=span_exporter)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    return client


def _post(client: TestClient, **headers: str) -> Any:
    return client.post(
        "/graphql",
        json={"query": QUERY, "operationName": "Greet", "variables": {"name": RESIDENT_NAME}},
        headers={"authorization": TOKEN, **headers},
    )


def _received(response: Any) -> dict[str, str]:
    return {h["name"]: h["value"] for h in response.json()["data"]["headers"]}


def _all_attribute_text(spans: Any) -> str:
    return " ".join(f"{key}={value}" for span in spans for key, value in (span.attributes or {}).items())


def test_one_trace_from_gateway_to_subgraph(traced_subgraph, subgraph_spans):
    gateway_spans = InMemorySpanExporter()
    settings = Settings(telemetry=TelemetrySettings(enabled=True, service_name="kyodo-gateway-test"))
    client = _client(settings, traced_subgraph.url, gateway_spans)
    subgraph_spans.clear()
    try:
        response = _post(client)
    finally:
        client.__exit__(None, None, None)
    assert response.status_code == 200
    assert response.json()["data"]["hello"] == f"hello {RESIDENT_NAME}"

    spans = {span.name: span for span in gateway_spans.get_finished_spans()}
    assert {"graphql.validate", "graphql.plan", "graphql.execute", "subgraph.fetch"} <= set(spans)
    server = next(s for s in spans.values() if s.parent is None)
    fetch = spans["subgraph.fetch"]
    trace_id = server.context.trace_id
    assert all(s.context.trace_id == trace_id for s in spans.values())
    assert spans["graphql.execute"].parent.span_id == server.context.span_id
    assert fetch.parent.span_id == spans["graphql.execute"].context.span_id
    assert fetch.attributes["kyodo.subgraph.name"] == "things"
    assert server.attributes["graphql.operation.name"] == "Greet"
    assert server.attributes["graphql.operation.type"] == "query"
    assert server.resource.attributes["service.name"] == "kyodo-gateway-test"

    # The subgraph continued the trace: its server span is the fetch span's child.
    subgraph_server = [s for s in subgraph_spans.get_finished_spans() if s.parent is not None]
    assert len(subgraph_server) == 1
    assert subgraph_server[0].context.trace_id == trace_id
    assert subgraph_server[0].parent.span_id == fetch.context.span_id
    assert subgraph_server[0].resource.attributes["service.name"] == "kyodo-things"
    received = _received(response)
    assert received["traceparent"].split("-")[1] == format(trace_id, "032x")

    attributes = _all_attribute_text([*spans.values(), *subgraph_spans.get_finished_spans()])
    for secret in (RESIDENT_NAME, "secret-token", "hello", "Yamada"):
        assert secret not in attributes


def test_get_query_string_never_reaches_a_span(traced_subgraph):
    gateway_spans = InMemorySpanExporter()
    settings = Settings(telemetry=TelemetrySettings(enabled=True))
    client = _client(settings, traced_subgraph.url, gateway_spans)
    try:
        response = client.get(
            "/graphql",
            params={"query": "query Greet($name: String!) { hello(name: $name) }",
                    "variables": orjson.dumps({"name": RESIDENT_NAME}).decode()},
            headers={"apollo-require-preflight": "true"},
        )
    finally:
        client.__exit__(None, None, None)
    assert response.status_code == 200
    attributes = _all_attribute_text(gateway_spans.get_finished_spans())
    assert "http.url" in attributes
    assert "Yamada" not in attributes and "hello" not in attributes and "variables" not in attributes


def test_telemetry_off_installs_nothing_and_sends_no_traceparent(traced_subgraph):
    client = _client(Settings(), traced_subgraph.url)
    try:
        app = client.app
        gateway = app.state.gateway
        assert "tracing" not in [plugin.name for plugin in gateway.plugins]
        assert not any("OpenTelemetry" in m.cls.__name__ for m in app.user_middleware)
        response = _post(client)
    finally:
        client.__exit__(None, None, None)
    assert response.status_code == 200
    received = _received(response)
    assert "traceparent" not in received
    assert "authorization" not in received


def test_request_id_round_trip(traced_subgraph):
    client = _client(Settings(), traced_subgraph.url)
    try:
        given = _post(client, **{"x-request-id": "city-lb:4f2a-01"})
        made_up = _post(client)
        refused = _post(client, **{"x-request-id": "x" * 65})
    finally:
        client.__exit__(None, None, None)
    assert given.headers["x-request-id"] == "city-lb:4f2a-01"
    assert _received(given)["x-request-id"] == "city-lb:4f2a-01"
    for response in (made_up, refused):
        generated = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", generated)
        assert _received(response)["x-request-id"] == generated


def test_request_id_on_refused_requests(make_client):
    response = make_client().post("/graphql", json={"query": "{ nope"}, headers={"x-request-id": "r-1"})
    assert response.status_code == 400
    assert response.headers["x-request-id"] == "r-1"


def test_json_log_line_fields(traced_subgraph, caplog):
    gateway_spans = InMemorySpanExporter()
    settings = settings_from_mapping({"telemetry": {"enabled": True, "log_format": "json"}})
    client = _client(settings, traced_subgraph.url, gateway_spans)
    try:
        with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
            _post(client, **{"x-request-id": "req-42"})
    finally:
        client.__exit__(None, None, None)
    lines = [r.getMessage() for r in caplog.records if r.name == REQUEST_LOGGER]
    assert len(lines) == 1
    line = orjson.loads(lines[0])
    assert line["event"] == "graphql_request"
    assert line["request_id"] == "req-42"
    assert (line["operation_name"], line["operation_type"], line["status"]) == ("Greet", "query", 200)
    assert line["subgraph_calls"] == 1
    assert line["duration_ms"] >= 0
    server = next(s for s in gateway_spans.get_finished_spans() if s.parent is None)
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    for secret in (RESIDENT_NAME, "secret-token", "hello"):
        assert secret not in lines[0]


def test_text_log_line_for_a_refused_request(make_client, caplog):
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        make_client().post("/graphql", json={"query": "{ nope"}, headers={"x-request-id": "bad-1"})
    lines = [r.getMessage() for r in caplog.records if r.name == REQUEST_LOGGER]
    assert lines == [lines[0]] and "request_id=bad-1" in lines[0]
    assert "status=400" in lines[0] and "operation_type=-" in lines[0] and "subgraph_calls=0" in lines[0]
    assert "trace_id" not in lines[0]
    assert "nope" not in lines[0]


def test_request_log_can_be_turned_off(make_client, caplog):
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        response = make_client({"telemetry": {"request_log": False}}).post("/graphql", json={"query": "{ hello }"})
    assert response.headers["x-request-id"]
    assert not [r for r in caplog.records if r.name == REQUEST_LOGGER]


@pytest.mark.parametrize("table", [{"exporter": "zipkin"}, {"log_format": "xml"}, {"sampling_ratio": 1.5}])
def test_bad_telemetry_settings_are_refused(table):
    with pytest.raises(SettingsError, match=f"telemetry.{next(iter(table))}"):
        settings_from_mapping({"telemetry": table})


def test_authorization_stage_gets_its_span(traced_subgraph):
    from dataclasses import dataclass, field

    @dataclass
    class Allowed:
        document: Any
        errors: list = field(default_factory=list)

    seen: list[str | None] = []

    def authorizer(supergraph: Any, document: Any, operation_name: str | None, principal: Any) -> Allowed:
        seen.append(operation_name)
        return Allowed(document)

    gateway_spans = InMemorySpanExporter()
    settings = Settings(telemetry=TelemetrySettings(enabled=True))
    supergraph = load_supergraph(things_supergraph(traced_subgraph.url + "/graphql"))
    app = create_app(settings, supergraph, authorizer=authorizer, span_exporter=gateway_spans)
    with TestClient(app) as client:
        assert client.post("/graphql", json={"query": "query Hi { hello }"}).json() == {"data": {"hello": "hello world"}}
    assert seen == ["Hi"]
    spans = {span.name: span for span in gateway_spans.get_finished_spans()}
    server = next(s for s in spans.values() if s.parent is None)
    assert spans["graphql.authorize"].parent.span_id == server.context.span_id
    assert spans["graphql.authorize"].context.trace_id == server.context.trace_id
