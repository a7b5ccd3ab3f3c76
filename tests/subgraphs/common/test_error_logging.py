"""Expected client errors are one INFO line without a traceback; unexpected ones keep theirs at ERROR."""

from __future__ import annotations

import logging

import httpx
import strawberry

from subgraphs.common.app import create_subgraph_app
from subgraphs.common.errors import BadUserInput, Forbidden, NotFound, SafeErrors


@strawberry.type
class Query:
    @strawberry.field
    def picky(self, n: int) -> int:
        if n < 0:
            raise BadUserInput("n must not be negative", field="n")
        return n

    @strawberry.field
    def secret(self) -> str | None:
        raise Forbidden("not yours")

    @strawberry.field
    def missing(self) -> str | None:
        raise NotFound("no such thing")

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError("secret table name users_pii")


schema = strawberry.federation.Schema(query=Query, extensions=[SafeErrors])


async def _post(tmp_path, query: str) -> dict:  # noqa: ANN001
    app = create_subgraph_app("test", schema, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.sqlite")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subgraph") as client:
        response = await client.post("/graphql", json={"query": query}, headers={"X-Request-Id": "req-42"})
    await app.state.database.dispose()
    return response.json()


def _records(caplog) -> list[logging.LogRecord]:  # noqa: ANN001
    return [r for r in caplog.records if r.name.startswith(("kyodo.subgraphs.errors", "strawberry"))]


async def test_expected_client_errors_are_one_info_line_each_without_traceback(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    body = await _post(tmp_path, "{ picky(n: -1) }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await _post(tmp_path, "{ secret missing }")
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN", "NOT_FOUND"}
    await _post(tmp_path, "{ nope }")              # validation
    await _post(tmp_path, "{ picky(n: 1) ")         # syntax
    records = _records(caplog)
    assert len(records) == 5, [r.getMessage() for r in records]
    assert {r.levelno for r in records} == {logging.INFO}
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    messages = " | ".join(r.getMessage() for r in records)
    for expected in ("BAD_USER_INPUT at picky: n must not be negative (request req-42)", "FORBIDDEN at secret",
                     "NOT_FOUND at missing", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"):
        assert expected in messages, messages


async def test_unexpected_errors_keep_their_traceback_once_and_stay_masked(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    body = await _post(tmp_path, "{ boom }")
    assert body["errors"][0] == {"message": "Internal server error", "locations": [{"line": 1, "column": 3}],
                                 "path": ["boom"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    records = _records(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info and isinstance(records[0].exc_info[1], RuntimeError)
    assert "users_pii" in caplog.text and "Traceback" in caplog.text   # the operator sees it, the client never
