from __future__ import annotations

import httpx
import strawberry

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.errors import BadUserInput, SafeErrors


@strawberry.type
class Query:
    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("secret table name users_pii")

    @strawberry.field
    def picky(self, n: int) -> int:
        if n < 0:
            raise BadUserInput("n must not be negative", field="n")
        return n


schema = strawberry.federation.Schema(query=Query, extensions=[SafeErrors])


async def _post(app, body: dict) -> httpx.Response:  # noqa: ANN001
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
        return await client.post("/graphql", json=body)


async def test_unexpected_errors_are_masked_and_coded(tmp_path):
    app = create_subgraph_app("test", schema, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.sqlite")
    body = (await _post(app, {"query": "{ boom }"})).json()
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "users_pii" not in str(body) and "Traceback" not in str(body)


async def test_client_errors_keep_message_and_code(tmp_path):
    app = create_subgraph_app("test", schema, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.sqlite")
    body = (await _post(app, {"query": "{ picky(n: -1) }"})).json()
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "n"}
    body = (await _post(app, {"query": "query($n: Int!) { picky(n: $n) }", "variables": {"n": "x"}})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = (await _post(app, {"query": "{ nope }"})).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_health_reports_the_database(tmp_path):
    app = create_subgraph_app("test", schema, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.sqlite")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
        response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok", "subgraph": "test"}


async def test_malformed_http_requests_get_a_graphql_error_body(tmp_path):
    app = create_subgraph_app("test", schema, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.sqlite")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
        cases = [
            client.post("/graphql", content=b"{not json", headers={"content-type": "application/json"}),
            client.post("/graphql", json={"query": 5}),
            client.post("/graphql", json={"query": "{ picky(n: 1) }", "variables": "x"}),
            client.post("/graphql", content=b"x", headers={"content-type": "text/plain"}),
        ]
        for pending in cases:
            response = await pending
            assert response.status_code == 400
            body = response.json()
            assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST" and body["errors"][0]["message"]
        syntax = (await client.post("/graphql", json={"query": "{ picky(n: 1) "})).json()
    assert syntax["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
