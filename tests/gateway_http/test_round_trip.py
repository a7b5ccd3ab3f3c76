"""Round trips through the whole pipeline to a real strawberry subgraph on a loopback port."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import pytest
from graphql import parse

from gateway.settings import settings_from_mapping
from gateway.supergraph import load_supergraph
from tests.gateway_http.conftest import GRAPHQL_RESPONSE, JSON
from tests.gateway_http.servers import ThreadedServer
from tests.gateway_http.things_subgraph import things_supergraph

PREFLIGHT = {"apollo-require-preflight": "true"}


def test_post_query_round_trip(make_client):
    response = make_client().post("/graphql", json={"query": '{ hello(name: "Himeji") thing(id: "7") { id name } }'})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"hello": "hello Himeji", "thing": {"id": "7", "name": "thing 7"}}}


def test_variables_and_operation_name(make_client):
    query = "query A { hello } query B($n: String!) { greeting: hello(name: $n) }"
    response = make_client().post("/graphql", json={"query": query, "operationName": "B", "variables": {"n": "Kasai"}})
    assert response.json() == {"data": {"greeting": "hello Kasai"}}


def test_get_query_round_trip_under_graphql_response_json(make_client):
    response = make_client().get(
        "/graphql", params={"query": "{ hello }"}, headers={**PREFLIGHT, "accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"hello": "hello world"}}


def test_mutation_over_post(make_client):
    response = make_client().post("/graphql", json={"query": 'mutation { setGreeting(text: "yo") }'})
    assert response.json() == {"data": {"setGreeting": "greeting set to yo"}}


def test_repeated_operation_is_served_from_both_caches(make_client):
    client = make_client()
    pipeline = client.app.state.gateway.pipeline
    for _ in range(3):
        assert client.post("/graphql", json={"query": "{ hello }"}).json() == {"data": {"hello": "hello world"}}
    documents, plans = pipeline.documents.stats(), pipeline.plan_cache_stats()
    assert (documents.misses, documents.hits) == (1, 2)
    assert (plans.misses, plans.hits) == (1, 2)
    # Another operation of the same document is another plan, but the same parsed document.
    query = "query A { hello } query B { thing(id: 1) { id } }"
    client.post("/graphql", json={"query": query, "operationName": "A"})
    client.post("/graphql", json={"query": query, "operationName": "B"})
    documents, plans = pipeline.documents.stats(), pipeline.plan_cache_stats()
    assert (documents.misses, documents.hits) == (2, 3)
    assert (plans.misses, plans.hits) == (3, 2)


def test_caches_are_bounded(make_client):
    client = make_client({"caches": {"documents": 2, "plans": 2}})
    for name in ("a", "b", "c", "d"):
        client.post("/graphql", json={"query": f'{{ hello(name: "{name}") }}'})
    pipeline = client.app.state.gateway.pipeline
    assert pipeline.documents.stats().size == 2 and pipeline.documents.stats().evictions == 2
    assert pipeline.plan_cache_stats().size == 2


class TestExposeQueryPlan:
    def test_header_returns_the_plan_when_enabled(self, make_client):
        client = make_client({"expose_query_plan": True})
        response = client.post(
            "/graphql", json={"query": "{ hello }"}, headers={"Apollo-Expose-Query-Plan": "true"}
        )
        body = response.json()
        assert body["data"] == {"hello": "hello world"}
        plan = body["extensions"]["apolloQueryPlan"]
        assert plan["object"]["kind"] == "QueryPlan"
        assert plan["object"]["node"]["kind"] == "Fetch"
        # the join__Graph name, as everywhere in our plans (printed plans, `kyodo plan`, the executor's keys)
        assert plan["object"]["node"]["serviceName"] == "THINGS"
        assert "hello" in plan["object"]["node"]["operation"]
        assert "QueryPlan" in plan["text"] and "hello" in plan["text"]

    def test_no_plan_without_the_header(self, make_client):
        body = make_client({"expose_query_plan": True}).post("/graphql", json={"query": "{ hello }"}).json()
        assert "extensions" not in body

    def test_header_ignored_when_the_setting_is_off(self, make_client):
        body = make_client().post(
            "/graphql", json={"query": "{ hello }"}, headers={"Apollo-Expose-Query-Plan": "true"}
        ).json()
        assert "extensions" not in body


def test_introspection_is_answered_when_enabled(make_client):
    body = make_client().post(
        "/graphql", json={"query": '{ __typename __schema { queryType { name } } __type(name: "Thing") { name } hello }'}
    ).json()
    assert body["data"] == {
        "__typename": "Query",
        "__schema": {"queryType": {"name": "Query"}},
        "__type": {"name": "Thing"},
        "hello": "hello world",
    }


@dataclass
class Caller:
    subject: str


def received_headers(response) -> dict[str, str]:
    body = response.json()
    assert "errors" not in body, body
    return {h["name"].lower(): h["value"] for h in body["data"]["receivedHeaders"]}


class TestHeadersReachingTheSubgraph:
    query = "{ receivedHeaders { name value } }"
    client_headers = {
        "Kyodo-Context": "forged",
        "kyodo-principal": "admin",
        "Authorization": "Bearer client-token",
        "Cookie": "session=1",
        "X-Custom": "custom",
    }

    def test_only_context_headers_reach_the_subgraph(self, make_client):
        async def authenticator(request):
            return Caller("resident-1")

        def context_headers(principal, subgraph):
            return {"Kyodo-Context": f"minted:{principal.subject}:{subgraph}"}

        client = make_client(authenticator=authenticator, context_headers=context_headers)
        headers = received_headers(client.post("/graphql", json={"query": self.query}, headers=self.client_headers))
        assert headers["kyodo-context"] == "minted:resident-1:things"
        assert "kyodo-principal" not in headers
        for name in ("authorization", "cookie", "x-custom"):
            assert name not in headers

    def test_no_client_kyodo_header_without_a_context_hook(self, make_client):
        anonymous = {name: value for name, value in self.client_headers.items() if name != "Authorization"}
        # a client cannot shorten (or lengthen) the subgraphs' time limit: the gateway sends its own budget
        anonymous["Kyodo-Request-Timeout-Ms"] = "1"
        headers = received_headers(make_client().post("/graphql", json={"query": self.query}, headers=anonymous))
        assert [name for name in headers if name.startswith("kyodo-")] == ["kyodo-request-timeout-ms"]
        assert 25_000 < int(headers["kyodo-request-timeout-ms"]) <= 30_000   # runtime.request_timeout_seconds
        assert "cookie" not in headers

    def test_an_app_without_authenticator_refuses_a_token_instead_of_ignoring_it(self, make_client):
        response = make_client().post("/graphql", json={"query": self.query}, headers=self.client_headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "receivedHeaders" not in response.text


class TestHostileThenServed:
    def test_next_request_is_served_after_each_hostile_document(self, make_client):
        client = make_client()
        hostile = [
            "{" + " hello" * (5 * 1024 * 1024 // 6) + " }",
            "{ " + " ".join(f'same: hello(name: "n{i}")' for i in range(10_000)) + " }",
            "query { ...F0 } "
            + " ".join(f"fragment F{i} on Query {{ " + " ".join([f"...F{i + 1}"] * 10) + " }" for i in range(12))
            + " fragment F12 on Query { hello }",
        ]
        for query in hostile:
            response = client.post("/graphql", content=orjson.dumps({"query": query}), headers=JSON)
            assert response.status_code == 400
            assert response.json()["errors"][0]["extensions"]["code"].startswith("MAX_")
            assert client.post("/graphql", json={"query": "{ hello }"}).json() == {"data": {"hello": "hello world"}}


def test_unreachable_subgraph_is_a_graphql_error_not_a_500(make_client):
    with ThreadedServer(lambda scope, receive, send: None, lifespan="off") as closed:
        url = closed.url
    # The server is stopped: nothing listens on that port now.
    from starlette.testclient import TestClient

    from gateway.http import create_app

    app = create_app(settings_from_mapping({}), load_supergraph(things_supergraph(url + "/graphql")))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/graphql", json={"query": "{ hello }"}, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"]
    assert "Traceback" not in response.text


@dataclass
class Outcome:
    document: object
    errors: list = field(default_factory=list)
    removed_paths: tuple = ()
    signature: object = None


class TestAuthorizerHook:
    def authorizer(self, supergraph, document, operation_name, principal):
        if principal is not None:
            return Outcome(document)
        pruned = parse('{ thing(id: "1") { id } }')
        error = {"message": "Unauthorized field or type", "path": ["hello"], "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"}}
        return Outcome(pruned, [error], (("hello",),), ("hello",))

    def test_errors_are_merged_and_pruned_fields_are_null(self, make_client):
        client = make_client(authorizer=self.authorizer)
        body = client.post("/graphql", json={"query": '{ hello thing(id: "1") { id } }'}).json()
        assert body["data"] == {"thing": {"id": "1"}, "hello": None}
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
        assert body["errors"][0]["path"] == ["hello"]

    def test_plan_cache_keys_on_the_authorization_outcome(self, make_client):
        async def authenticator(request):
            return Caller("staff-1") if "authorization" in request.headers else None

        client = make_client(authorizer=self.authorizer, authenticator=authenticator)
        query = {"query": '{ hello thing(id: "1") { id } }'}
        anonymous = client.post("/graphql", json=query).json()
        signed_in = client.post("/graphql", json=query, headers={"Authorization": "Bearer t"}).json()
        client.post("/graphql", json=query)
        assert anonymous["data"]["hello"] is None
        assert signed_in == {"data": {"hello": "hello world", "thing": {"id": "1"}}}
        plans = client.app.state.gateway.pipeline.plan_cache_stats()
        assert (plans.misses, plans.hits, plans.size) == (2, 1, 2)


def test_metrics_record_subgraph_fetch_latency(make_client):
    client = make_client({"admin": {"metrics_on_public_port": True}})
    client.post("/graphql", json={"query": "{ hello }"})
    text = client.get("/metrics").text
    counts = [line for line in text.splitlines() if line.startswith("kyodo_gateway_subgraph_fetch_duration_seconds_count")]
    assert counts and float(counts[0].rsplit(" ", 1)[1]) >= 1
    assert 'kyodo_gateway_requests_total{method="POST",status="200"} 1.0' in text


def test_settings_override_the_subgraph_url(things_server):
    from starlette.testclient import TestClient

    from gateway.http import create_app

    # The supergraph names a dead URL; the settings point the subgraph at the live one.
    supergraph = load_supergraph(things_supergraph("http://127.0.0.1:9/graphql"))
    settings = settings_from_mapping({"subgraphs": {"things": {"url": things_server.url + "/graphql"}}})
    with TestClient(create_app(settings, supergraph)) as client:
        assert client.post("/graphql", json={"query": "{ hello }"}).json() == {"data": {"hello": "hello world"}}
