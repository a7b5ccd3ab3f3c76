"""GraphQL over HTTP: every request the gateway refuses gets a GraphQL error body and a 4xx.

None of these reach the engine: they are answered by the HTTP stage and the document stage.
"""

from __future__ import annotations

import orjson
import pytest

from auth.errors import AuthenticationError
from tests.gateway_http.conftest import GRAPHQL_RESPONSE, JSON


def error_code(response) -> str:
    body = response.json()
    assert "data" not in body
    return body["errors"][0]["extensions"]["code"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "BAD_REQUEST"),
        (b"", "BAD_REQUEST"),
        (b'"a string"', "BAD_REQUEST"),
        (b'[{"query": "{ hello }"}]', "BAD_REQUEST"),
        (b"{}", "BAD_REQUEST"),
        (b'{"query": null}', "BAD_REQUEST"),
        (b'{"query": 42}', "BAD_REQUEST"),
        (b'{"query": "{ hello }", "variables": [1, 2]}', "BAD_REQUEST"),
        (b'{"query": "{ hello }", "variables": "{}"}', "BAD_REQUEST"),
        (b'{"query": "{ hello }", "operationName": 3}', "BAD_REQUEST"),
        (b'{"query": "{ hello }", "extensions": 1}', "BAD_REQUEST"),
        (b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab"}}}', "PERSISTED_QUERY_NOT_SUPPORTED"),
        (b'{"query": "{ hello "}', "GRAPHQL_PARSE_FAILED"),
        (b'{"query": "{ nope }"}', "GRAPHQL_VALIDATION_FAILED"),
        (b'{"query": "query A { hello } query B { hello }"}', "GRAPHQL_VALIDATION_FAILED"),
        (b'{"query": "query A { hello }", "operationName": "B"}', "GRAPHQL_VALIDATION_FAILED"),
    ],
)
def test_malformed_requests_get_400_with_a_graphql_error(make_client, body, code):
    client = make_client()
    response = client.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert error_code(response) == code


@pytest.mark.parametrize(
    "variables",
    [{"name": 5}, {"name": None}, {}, {"name": ["a"]}],
)
def test_wrong_variable_values_get_400(make_client, variables):
    client = make_client()
    query = "query Greet($name: String!) { hello(name: $name) }"
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 400
    assert error_code(response) == "BAD_USER_INPUT"
    assert "$name" in response.json()["errors"][0]["message"]


def test_get_with_bad_variables_json_is_400(make_client):
    client = make_client()
    response = client.get(
        "/graphql", params={"query": "{ hello }", "variables": "{oops"}, headers={"apollo-require-preflight": "1"}
    )
    assert response.status_code == 400
    assert error_code(response) == "BAD_REQUEST"


def test_mutation_over_get_is_405(make_client):
    client = make_client()
    response = client.get(
        "/graphql",
        params={"query": 'mutation { setGreeting(text: "hi") }'},
        headers={"apollo-require-preflight": "true", "accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert error_code(response) == "METHOD_NOT_ALLOWED"


def test_mutation_chosen_by_operation_name_over_get_is_405(make_client):
    client = make_client()
    query = 'query Q { hello } mutation M { setGreeting(text: "x") }'
    response = client.get(
        "/graphql", params={"query": query, "operationName": "M"}, headers={"apollo-require-preflight": "1"}
    )
    assert response.status_code == 405


def test_other_http_methods_are_405_with_a_graphql_error(make_client):
    client = make_client()
    response = client.put("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert error_code(response) == "METHOD_NOT_ALLOWED"


class TestCsrfPrevention:
    def test_get_without_preflight_header_is_refused(self, make_client):
        response = make_client().get("/graphql", params={"query": "{ nope }"})
        assert response.status_code == 400
        assert error_code(response) == "CSRF_PREVENTED"

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    )
    def test_simple_content_types_are_refused(self, make_client, content_type):
        response = make_client().post(
            "/graphql", content=b'{"query": "{ nope }"}', headers={"content-type": content_type}
        )
        assert response.status_code == 400
        assert error_code(response) == "CSRF_PREVENTED"

    def test_post_without_content_type_is_refused(self, make_client):
        response = make_client().post("/graphql", content=b'{"query": "{ nope }"}')
        assert response.status_code == 400
        assert error_code(response) == "CSRF_PREVENTED"

    @pytest.mark.parametrize("header", ["apollo-require-preflight", "x-apollo-operation-name"])
    def test_preflight_header_lets_a_get_through(self, make_client, header):
        # Past CSRF, the document is validated: the answer is the validation error, not a refusal.
        response = make_client().get("/graphql", params={"query": "{ nope }"}, headers={header: "x"})
        assert response.status_code == 400
        assert error_code(response) == "GRAPHQL_VALIDATION_FAILED"

    def test_preflight_header_with_a_simple_content_type_is_415(self, make_client):
        response = make_client().post(
            "/graphql",
            content=b'{"query": "{ nope }"}',
            headers={"content-type": "text/plain", "apollo-require-preflight": "true"},
        )
        assert response.status_code == 415
        assert error_code(response) == "UNSUPPORTED_MEDIA_TYPE"

    def test_json_with_charset_passes(self, make_client):
        response = make_client().post(
            "/graphql", content=b'{"query": "{ nope }"}', headers={"content-type": "application/json; charset=utf-8"}
        )
        assert error_code(response) == "GRAPHQL_VALIDATION_FAILED"

    def test_can_be_switched_off(self, make_client):
        response = make_client({"csrf": {"enabled": False}}).get("/graphql", params={"query": "{ nope }"})
        assert error_code(response) == "GRAPHQL_VALIDATION_FAILED"


class TestContentNegotiation:
    @pytest.mark.parametrize(
        ("accept", "expected"),
        [
            (None, "application/json"),
            ("application/json", "application/json"),
            ("*/*", "application/json"),
            (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
            (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
            (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ],
    )
    def test_response_media_type_follows_accept(self, make_client, accept, expected):
        headers = dict(JSON)
        if accept:
            headers["accept"] = accept
        response = make_client().post("/graphql", content=b'{"query": "{ nope }"}', headers=headers)
        assert response.headers["content-type"].split(";")[0] == expected
        assert response.status_code == 400

    def test_malformed_json_is_400_under_graphql_response_json(self, make_client):
        response = make_client().post(
            "/graphql", content=b"{", headers={**JSON, "accept": GRAPHQL_RESPONSE}
        )
        assert response.status_code == 400
        assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


class TestHostileDocuments:
    """Each is refused before validation with a 400, and the gateway keeps serving."""

    def assert_still_serving(self, client):
        response = client.post("/graphql", json={"query": "{ stillHere }"})
        assert response.status_code == 400
        assert "stillHere" in response.json()["errors"][0]["message"]

    def test_five_megabytes_of_repeated_fields(self, make_client):
        client = make_client()
        query = "{" + " hello" * (5 * 1024 * 1024 // 6) + " }"
        assert len(query) > 5_000_000
        response = client.post("/graphql", content=orjson.dumps({"query": query}), headers=JSON)
        assert response.status_code == 400
        assert error_code(response) == "MAX_DOCUMENT_SIZE_LIMIT"
        self.assert_still_serving(client)

    def test_ten_thousand_conflicting_aliases(self, make_client):
        client = make_client()
        query = "{ " + " ".join(f'same: hello(name: "n{i}")' for i in range(10_000)) + " }"
        response = client.post("/graphql", json={"query": query})
        assert response.status_code == 400
        assert error_code(response) == "MAX_TOKENS_LIMIT"
        self.assert_still_serving(client)

    def test_ten_thousand_conflicting_aliases_under_a_large_token_limit(self, make_client):
        client = make_client({"limits": {"max_tokens": 1_000_000, "max_document_bytes": 10_000_000}})
        query = "{ " + " ".join(f'same: hello(name: "n{i}")' for i in range(10_000)) + " }"
        response = client.post("/graphql", json={"query": query})
        assert response.status_code == 400
        assert error_code(response) in {"MAX_ALIASES_LIMIT", "MAX_REPEATED_FIELDS_LIMIT"}
        self.assert_still_serving(client)

    def test_fragment_bomb(self, make_client):
        client = make_client()
        # 10 spreads per level, 12 levels: 10^12 expanded selections from a 2 KB document.
        levels = 12
        fragments = [
            f"fragment F{i} on Query {{ " + " ".join([f"...F{i + 1}"] * 10) + " }" for i in range(levels)
        ]
        fragments.append(f"fragment F{levels} on Query {{ hello }}")
        query = "query Bomb { ...F0 } " + " ".join(fragments)
        response = client.post("/graphql", json={"query": query})
        assert response.status_code == 400
        # Whichever bound the expansion crosses first: the same field merged too often, or spreads.
        assert error_code(response) in {"MAX_REPEATED_FIELDS_LIMIT", "MAX_FRAGMENT_SPREADS_LIMIT"}
        self.assert_still_serving(client)

    def test_body_over_the_byte_limit_is_413(self, make_client):
        client = make_client({"limits": {"max_body_bytes": 1000}})
        response = client.post("/graphql", json={"query": "{ hello }", "variables": {"pad": "x" * 2000}})
        assert response.status_code == 413
        assert error_code(response) == "REQUEST_TOO_LARGE"


class TestIntrospectionSwitch:
    @pytest.mark.parametrize(
        "query", ["{ __schema { queryType { name } } }", '{ __type(name: "Query") { name } }']
    )
    def test_introspection_off_is_a_validation_error(self, make_client, query):
        response = make_client({"introspection": False}).post("/graphql", json={"query": query})
        assert response.status_code == 400
        assert error_code(response) == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in response.json()["errors"][0]["message"].lower()

    def test_introspection_on_is_answered(self, make_client):
        client = make_client({"introspection": True})
        response = client.post("/graphql", json={"query": '{ __schema { queryType { name } } __type(name: "Query") '
                                                          '{ fields { name } } }'})
        assert response.status_code == 200
        body = response.json()
        assert "errors" not in body
        assert body["data"]["__schema"] == {"queryType": {"name": "Query"}}
        assert {"hello", "thing"} <= {field["name"] for field in body["data"]["__type"]["fields"]}


class TestAuthenticationHook:
    def test_refused_token_is_401_with_www_authenticate(self, make_client):
        async def authenticator(request):
            raise AuthenticationError("token expired", www_authenticate='Bearer error="invalid_token"')

        response = make_client(authenticator=authenticator).post("/graphql", json={"query": "{ hello }"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        body = response.json()
        assert body["errors"][0]["message"] == "token expired"
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    def test_authenticator_never_sees_client_kyodo_headers(self, make_client):
        seen: list[dict] = []

        async def authenticator(request):
            seen.append(dict(request.headers))
            raise AuthenticationError("stop here")

        make_client(authenticator=authenticator).post(
            "/graphql",
            json={"query": "{ hello }"},
            headers={"Kyodo-Context": "forged", "KYODO-Anything": "x", "X-Other": "kept"},
        )
        assert seen and not [name for name in seen[0] if name.lower().startswith("kyodo-")]
        assert seen[0]["x-other"] == "kept"


def test_unexpected_exception_is_a_graphql_error_without_traceback(make_client):
    async def authenticator(request):
        raise RuntimeError("secret internal detail")

    response = make_client(authenticator=authenticator).post("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 500
    assert error_code(response) == "INTERNAL_SERVER_ERROR"
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text


def test_health(make_client):
    client = make_client()
    for path in ("/health", "/healthcheck"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "UP"}


def test_metrics_count_requests_errors_and_cache_lookups(make_client):
    client = make_client({"admin": {"metrics_on_public_port": True}})
    for _ in range(3):
        client.post("/graphql", json={"query": "{ nope }"})
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'kyodo_gateway_requests_total{method="POST",status="400"} 3.0' in text
    assert 'kyodo_gateway_request_errors_total{kind="request"} 3.0' in text
    # The invalid document was validated once; its errors were served from the cache twice.
    assert 'kyodo_gateway_cache_misses_total{cache="documents"} 1.0' in text
    assert 'kyodo_gateway_cache_hits_total{cache="documents"} 2.0' in text
    assert "kyodo_gateway_subgraph_fetch_duration_seconds" in text


def test_validation_errors_are_cached(make_client):
    client = make_client()
    documents = client.app.state.gateway.pipeline.documents
    first = client.post("/graphql", json={"query": "{ nope }"}).json()
    second = client.post("/graphql", json={"query": "{ nope }"}).json()
    assert first == second
    stats = documents.stats()
    assert (stats.misses, stats.hits) == (1, 1)
