"""The plugin protocol, end to end through the gateway to a real subgraph on a loopback port."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.document import GraphQLRequestError
from gateway.plugins import HOOK_NAMES, Hooks
from gateway.plugins.municipality_header import is_municipality_code
from gateway.settings import SettingsError, settings_from_mapping
from kyodo.cli import main
from tests.gateway_http.things_subgraph import things_supergraph

HEADERS_QUERY = "{ receivedHeaders { name value } }"
MUNICIPALITY = {"module": "gateway.plugins.municipality_header"}


def received(response: Any) -> dict[str, str]:
    body = response.json()
    assert "errors" not in body, body
    return {h["name"].lower(): h["value"] for h in body["data"]["receivedHeaders"]}


# -- the shipped example: X-Municipality-Code to chosen subgraphs only ------------------------------


def test_municipality_code_reaches_a_chosen_subgraph(make_client):
    client = make_client({"plugins": [{**MUNICIPALITY, "settings": {"subgraphs": ["things"]}}]})
    headers = received(client.post("/graphql", json={"query": HEADERS_QUERY}, headers={"X-Municipality-Code": "282103"}))
    assert headers["x-municipality-code"] == "282103"
    # No header from the client: none is invented.
    assert "x-municipality-code" not in received(client.post("/graphql", json={"query": HEADERS_QUERY}))


def test_municipality_code_does_not_reach_a_subgraph_not_chosen(make_client):
    client = make_client({"plugins": [{**MUNICIPALITY, "settings": {"subgraphs": ["safety"]}}]})
    headers = received(client.post("/graphql", json={"query": HEADERS_QUERY}, headers={"X-Municipality-Code": "282103"}))
    assert "x-municipality-code" not in headers


def test_a_custom_header_name_from_the_plugin_settings(make_client):
    plugin = {**MUNICIPALITY, "settings": {"subgraphs": ["things"], "header": "X-LG-Code"}}
    headers = received(make_client({"plugins": [plugin]}).post(
        "/graphql", json={"query": HEADERS_QUERY}, headers={"X-LG-Code": "282227", "X-Municipality-Code": "282014"}))
    assert headers["x-lg-code"] == "282227" and "x-municipality-code" not in headers


@pytest.mark.parametrize("code", ["282015", "28210", "2821034", "２８２１０３", "282103\r\nX-Evil: 1", "abcdef"])
def test_a_malformed_municipality_code_is_refused_not_forwarded(make_client, code):
    client = make_client({"plugins": [{**MUNICIPALITY, "settings": {"subgraphs": ["things"]}}]})
    response = client.post("/graphql", json={"query": HEADERS_QUERY}, headers={"X-Municipality-Code": code.encode("utf-8")})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_MUNICIPALITY_CODE"
    assert "receivedHeaders" not in response.text


def test_check_digit_of_the_four_cities():
    assert all(is_municipality_code(code) for code in ("282014", "282103", "282201", "282227"))
    assert not any(is_municipality_code(code) for code in ("282010", "282100", "282200", "282220", ""))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({**MUNICIPALITY, "settings": {"subgrafs": ["things"]}}, "plugins[0].settings.subgrafs: unknown key"),
        ({**MUNICIPALITY, "settings": {}}, "plugins[0].settings.subgraphs: required key is missing"),
        ({**MUNICIPALITY, "settings": {"subgraphs": "things"}}, "plugins[0].settings.subgraphs: must be"),
        ({**MUNICIPALITY, "settings": {"subgraphs": ["things"], "header": "X Bad"}}, "plugins[0].settings.header"),
        ({"module": "tests.no_such_plugin"}, "plugins[0].module: cannot import 'tests.no_such_plugin'"),
        ({"module": "gateway.plugins.protocol"}, "plugins[0].module: 'gateway.plugins.protocol' has no create(settings)"),
    ],
)
def test_bad_plugin_configuration_is_one_line_naming_the_key(supergraph, entry, message):
    from gateway.http import create_app

    with pytest.raises(SettingsError) as raised:
        create_app(settings_from_mapping({"plugins": [entry]}), supergraph)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_kyodo_serve_refuses_a_bad_plugin_table(capsys, tmp_path):
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(things_supergraph("http://127.0.0.1:9/graphql"), encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[auth]\nanonymous_only = true\ncontext_key_file = "{tmp_path / "k.json"}"\n'
        '[[plugins]]\nmodule = "gateway.plugins.municipality_header"\n[plugins.settings]\nsubgraps = ["things"]\n',
        encoding="utf-8",
    )
    status = main(["serve", "--supergraph", str(supergraph), "--config", str(config)])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "plugins[0].settings.subgraps: unknown key" in err


# -- the protocol itself ----------------------------------------------------------------------------


class Recorder:
    """Implements every hook and writes down what it saw."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def __getattr__(self, hook: str) -> Any:
        if hook not in HOOK_NAMES:
            raise AttributeError(hook)

        async def record(event: Any) -> None:
            detail = None
            if hook == "plan":
                detail = event.cached
            elif hook == "subgraph_request":
                detail = event.subgraph
            elif hook == "subgraph_response":
                detail = (event.error, event.seconds >= 0)
            elif hook == "http_response":
                detail = (event.status, event.outcome, event.state.operation_name, event.state.subgraph_calls)
            self.seen.append((hook, detail))

        return record


def test_hooks_run_in_stage_order_and_the_plan_cache_is_visible(make_client):
    recorder = Recorder()
    client = make_client(plugins=[recorder], authorizer=_allow_all)
    for _ in range(2):
        assert client.post("/graphql", json={"query": "query Hi { hello }"}).json() == {"data": {"hello": "hello world"}}
    first, second = recorder.seen[:13], recorder.seen[13:]
    assert [hook for hook, _ in recorder.seen] == [
        "http_request", "document_start", "document", "operation", "authorization_start", "authorization",
        "plan_start", "plan", "execution_start", "subgraph_request", "subgraph_response", "execution", "http_response",
        # the second request's plan comes from the cache: no plan_start, and `cached` says so
        "http_request", "document_start", "document", "operation", "authorization_start", "authorization", "plan",
        "execution_start", "subgraph_request", "subgraph_response", "execution", "http_response",
    ]
    details = dict(second)
    assert dict(first)["plan"] is False and details["plan"] is True
    assert details["subgraph_request"] == "things"
    assert details["subgraph_response"] == (None, True)
    assert details["http_response"] == (200, "data", "Hi", 1)


def test_a_refused_document_still_ends_its_stage(make_client):
    recorder = Recorder()
    response = make_client(plugins=[recorder]).post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 400
    assert [hook for hook, _ in recorder.seen] == ["http_request", "document_start", "document", "http_response"]
    assert recorder.seen[-1][1][:2] == (400, "request")


class AnswerFromCache:
    """Answers every fetch itself: the subgraph is never called."""

    name = "answer_from_cache"

    async def subgraph_request(self, event: Any) -> None:
        event.response = {"data": {"hello": f"cached for {event.subgraph}"}}


def test_a_plugin_can_answer_a_fetch_without_the_network(supergraph):
    from starlette.testclient import TestClient

    from gateway.http import create_app
    from gateway.supergraph import load_supergraph

    # Nothing listens on port 9: only the plugin's answer can make this succeed.
    app = create_app(settings_from_mapping({}), load_supergraph(things_supergraph("http://127.0.0.1:9/graphql")),
                     plugins=[AnswerFromCache()])
    with TestClient(app) as client:
        body = client.post("/graphql", json={"query": "{ hello }"}).json()
    assert body == {"data": {"hello": "cached for things"}}


class EditsHeaders:
    name = "edits_headers"

    async def subgraph_request(self, event: Any) -> None:
        event.headers["x-tenant"] = "kakogawa"
        event.headers.pop("x-request-id", None)   # plugins see and may change what earlier ones added


def test_a_plugin_can_add_and_remove_subgraph_headers(make_client):
    headers = received(make_client(plugins=[EditsHeaders()]).post("/graphql", json={"query": HEADERS_QUERY}))
    assert headers["x-tenant"] == "kakogawa" and "x-request-id" not in headers


class RefusesMutations:
    name = "refuses_mutations"

    async def document(self, event: Any) -> None:
        if event.state.operation_type == "mutation":
            raise GraphQLRequestError.single("Mutations are closed for maintenance.", "MAINTENANCE", status=503)


def test_a_hook_may_refuse_a_request_and_metrics_count_it(make_client):
    client = make_client({"admin": {"metrics_on_public_port": True}}, plugins=[RefusesMutations()])
    refused = client.post("/graphql", json={"query": 'mutation { setGreeting(text: "x") }'})
    assert refused.status_code == 503 and refused.json()["errors"][0]["extensions"]["code"] == "MAINTENANCE"
    assert client.post("/graphql", json={"query": "{ hello }"}).status_code == 200
    metrics = client.get("/metrics").text
    assert 'kyodo_gateway_requests_total{method="POST",status="503"} 1.0' in metrics


def test_a_hook_nobody_implements_is_an_empty_tuple(make_client):
    traffic_off = {"demand_control": {"enabled": False}, "rate_limit": {"enabled": False},
                   "response_cache": {"enabled": False}, "coalescing": {"operations": False}}
    hooks = make_client(traffic_off).app.state.gateway.hooks
    # Tracing, plan exposure and the traffic engines off: no plugin takes part in these stages at all.
    for name in ("document_start", "document", "operation", "authorization_start", "authorization", "plan_start",
                 "plan", "execution_start"):
        assert getattr(hooks, name) == (), name
    # only the always-on co-use pass-through (trial marks in extensions.coUse) sees the result
    assert [hook.__self__.name for hook in hooks.execution] == ["co_use_extensions"]
    assert Hooks([object()]).implemented() == {name: () for name in HOOK_NAMES}


def test_the_gateways_own_concerns_are_plugins(make_client):
    names = [plugin.name for plugin in make_client(
        {"telemetry": {"enabled": True}, "expose_query_plan": True,
         "plugins": [{**MUNICIPALITY, "settings": {"subgraphs": ["things"]}}]},
        context_headers=lambda principal, subgraph: {},
    ).app.state.gateway.plugins]
    assert names == ["request_id", "response_headers", "csrf", "tracing", "metrics", "co_use_extensions",
                     "demand_control", "response_cache", "operation_coalescing", "rate_limit", "query_plan",
                     "context_token", "municipality_header",
                     "request_log"]


def _allow_all(supergraph: Any, document: Any, operation_name: Any, principal: Any) -> Any:
    class Allowed:
        errors: list = []

    outcome = Allowed()
    outcome.document = document  # type: ignore[attr-defined]
    return outcome
