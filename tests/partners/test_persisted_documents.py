"""Trusted documents (manifest ids, safelist, log_unlisted) and APQ through a real GatewayApp: a fake executor
records which document text reached the engine; one test runs through the real threaded things subgraph."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.http.app import GatewayApp
from gateway.persisted import FileStore, ManifestError, PersistedOperation, parse_manifest, sha256_hex
from gateway.pipeline import Pipeline
from gateway.settings import SettingsError, settings_from_mapping
from tests.gateway_http.conftest import JSON

HELLO = "query Hello { hello }"
GREET = 'mutation Greet { setGreeting(text: "hi") }'


def manifest(*bodies: tuple[str, str, str]) -> dict:
    return {"format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{"id": sha256_hex(body), "name": name, "type": kind, "body": body}
                           for name, kind, body in bodies]}


class RecordingExecutor:
    """Stands in for the engine: answers every plan and remembers which operations ran."""

    def __init__(self) -> None:
        self.ran: list[str | None] = []

    async def __call__(self, plan: Any, supergraph: Any, prepared: Any, fetcher: Any) -> dict:
        self.ran.append(prepared.name)
        return {"data": {"hello": "hello world"}}


class Gateway:
    def __init__(self, supergraph: Any, settings: dict, store_dir: Path) -> None:
        table = {"directory": str(store_dir), **settings}
        self.config = settings_from_mapping({"persisted_documents": table})
        self.executor = RecordingExecutor()
        pipeline = Pipeline(supergraph, self.config, build_plan=lambda *args: object(), execute_plan=self.executor)
        self.app_state = GatewayApp(self.config, supergraph, authenticator=None, context_headers=None,
                                    authorizer=None, pipeline=pipeline)
        self.app = Starlette(routes=[Route("/graphql", self.app_state.graphql, methods=["GET", "POST"])])

    async def post(self, *bodies: dict) -> list[httpx.Response]:
        async with self.app_state.lifespan(self.app):
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                return [await client.post("/graphql", json=body, headers=JSON) for body in bodies]


async def publish(store_dir: Path, data: dict) -> None:
    await FileStore(store_dir).publish(parse_manifest(orjson.dumps(data)))


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def apq(sha: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


# -- manifest ------------------------------------------------------------------------------------------


def test_a_manifest_in_apollos_format_is_read():
    operations = parse_manifest(orjson.dumps(manifest(("Hello", "query", HELLO))))
    assert operations == [PersistedOperation(sha256_hex(HELLO), "Hello", "query", HELLO)]


@pytest.mark.parametrize(("data", "message"), [
    (b"{", "not valid JSON"),
    (b'{"format": "other", "version": 1, "operations": []}', "format"),
    (b'{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}', "version"),
    (b'{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "a", "type": "query"}]}',
     "operations[0].body"),
    (b'{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "", "type": "query", "body": "{a}"}]}',
     "operations[0].id"),
    (b'{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": "a", "type": "fetch", "body": "{a}"}]}',
     "operations[0].type"),
    (b'{"format": "apollo-persisted-query-manifest", "version": 1, "operations": ['
     b'{"id": "a", "type": "query", "body": "{a}"}, {"id": "a", "type": "query", "body": "{b}"}]}',
     "operations[1].id"),
])
def test_a_bad_manifest_is_refused_naming_the_entry(data, message):
    with pytest.raises(ManifestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_manifest(data)


def test_an_unknown_mode_is_a_settings_error():
    with pytest.raises(SettingsError, match="persisted_documents.mode"):
        settings_from_mapping({"persisted_documents": {"mode": "allowlist"}})


# -- safelist --------------------------------------------------------------------------------------------


async def test_safelist_runs_listed_documents_by_id_and_refuses_everything_else(supergraph, tmp_path):
    await publish(tmp_path, manifest(("Hello", "query", HELLO)))
    gateway = Gateway(supergraph, {"mode": "safelist"}, tmp_path)
    by_apollo_id, by_document_id, as_listed_text, unlisted, unknown_id = await gateway.post(
        {"extensions": apq(sha256_hex(HELLO))},
        {"documentId": sha256_hex(HELLO)},
        {"query": HELLO},
        {"query": "{ hello }"},
        {"documentId": "nope"},
    )
    assert [r.status_code for r in (by_apollo_id, by_document_id, as_listed_text)] == [200, 200, 200]
    assert by_apollo_id.json() == {"data": {"hello": "hello world"}}
    assert (unlisted.status_code, code(unlisted)) == (400, "QUERY_NOT_IN_SAFELIST")
    assert (unknown_id.status_code, code(unknown_id)) == (400, "PERSISTED_QUERY_NOT_IN_LIST")
    assert gateway.executor.ran == ["Hello", "Hello", "Hello"]


async def test_safelist_with_require_id_refuses_even_listed_text(supergraph, tmp_path):
    await publish(tmp_path, manifest(("Hello", "query", HELLO)))
    gateway = Gateway(supergraph, {"mode": "safelist", "require_id": True}, tmp_path)
    as_text, by_id = await gateway.post({"query": HELLO}, {"documentId": sha256_hex(HELLO)})
    assert code(as_text) == "PERSISTED_QUERY_ID_REQUIRED"
    assert by_id.status_code == 200
    assert gateway.executor.ran == ["Hello"]


async def test_safelist_refuses_apq_registration_even_when_apq_is_on(supergraph, tmp_path):
    gateway = Gateway(supergraph, {"mode": "safelist", "apq": True}, tmp_path)
    text = "query Sneaky { hello }"
    register, replay = await gateway.post({"query": text, "extensions": apq(sha256_hex(text))},
                                          {"extensions": apq(sha256_hex(text))})
    assert code(register) == "QUERY_NOT_IN_SAFELIST"
    assert code(replay) == "PERSISTED_QUERY_NOT_IN_LIST"
    assert gateway.executor.ran == []


# -- log_unlisted -------------------------------------------------------------------------------------


async def test_log_unlisted_runs_everything_and_logs_only_unlisted_documents(supergraph, tmp_path, caplog):
    await publish(tmp_path, manifest(("Hello", "query", HELLO)))
    gateway = Gateway(supergraph, {"mode": "log_unlisted"}, tmp_path)
    with caplog.at_level(logging.WARNING, logger="kyodo.gateway.persisted"):
        listed, unlisted = await gateway.post({"query": HELLO}, {"query": "query Other { hello }"})
    assert (listed.status_code, unlisted.status_code) == (200, 200)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "'Other'" in warnings[0] and sha256_hex("query Other { hello }") in warnings[0]


# -- APQ -------------------------------------------------------------------------------------------------


async def test_apq_round_trip_not_found_then_registered_then_by_hash(supergraph, tmp_path):
    gateway = Gateway(supergraph, {"apq": True}, tmp_path)
    sha = sha256_hex(HELLO)
    unknown, registered, by_hash = await gateway.post(
        {"extensions": apq(sha)}, {"query": HELLO, "extensions": apq(sha)}, {"extensions": apq(sha)})
    # As Apollo answers: HTTP 200 and PersistedQueryNotFound, so the client resends with the text.
    assert unknown.status_code == 200
    assert unknown.json()["errors"][0] == {"message": "PersistedQueryNotFound",
                                           "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    assert registered.status_code == 200 and by_hash.status_code == 200
    assert gateway.executor.ran == ["Hello", "Hello"]
    assert not (tmp_path / "ids").exists()   # APQ registrations never become trusted documents


async def test_apq_refuses_a_hash_that_does_not_match_and_never_registers_invalid_documents(supergraph, tmp_path):
    gateway = Gateway(supergraph, {"apq": True}, tmp_path)
    bad = "{ nope }"
    mismatch, invalid, replay = await gateway.post(
        {"query": HELLO, "extensions": apq(sha256_hex("something else"))},
        {"query": bad, "extensions": apq(sha256_hex(bad))},
        {"extensions": apq(sha256_hex(bad))})
    assert code(mismatch) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert code(invalid) == "GRAPHQL_VALIDATION_FAILED"
    assert code(replay) == "PERSISTED_QUERY_NOT_FOUND"


async def test_with_everything_off_a_hash_alone_is_not_supported_and_text_runs_as_before(supergraph, tmp_path):
    gateway = Gateway(supergraph, {"mode": "off"}, tmp_path)
    only_hash, with_text = await gateway.post(
        {"extensions": apq(sha256_hex(HELLO))}, {"query": HELLO, "extensions": apq(sha256_hex(HELLO))})
    assert (only_hash.status_code, code(only_hash)) == (400, "PERSISTED_QUERY_NOT_SUPPORTED")
    assert with_text.status_code == 200
    assert gateway.executor.ran == ["Hello"]


async def test_log_unlisted_without_apq_looks_ids_up_in_the_manifest_only(supergraph, tmp_path):
    gateway = Gateway(supergraph, {"mode": "log_unlisted"}, tmp_path)
    only_hash, with_text = await gateway.post(
        {"extensions": apq(sha256_hex(HELLO))}, {"query": HELLO, "extensions": apq(sha256_hex(HELLO))})
    assert code(only_hash) == "PERSISTED_QUERY_NOT_IN_LIST"
    assert with_text.status_code == 200
    (again,) = await gateway.post({"extensions": apq(sha256_hex(HELLO))})
    assert code(again) == "PERSISTED_QUERY_NOT_IN_LIST"   # nothing was registered


@pytest.mark.parametrize("extensions", [{"persistedQuery": {"version": 2, "sha256Hash": "ab"}},
                                        {"persistedQuery": "ab"}, {"persistedQuery": {"version": 1}}])
async def test_a_malformed_persisted_query_extension_is_a_bad_request(supergraph, tmp_path, extensions):
    gateway = Gateway(supergraph, {"apq": True}, tmp_path)
    (response,) = await gateway.post({"extensions": extensions})
    assert (response.status_code, code(response)) == (400, "BAD_REQUEST")


# -- through the real things subgraph --------------------------------------------------------------


def test_a_trusted_document_runs_through_the_real_subgraph_and_get_works(make_client, tmp_path):
    body = 'query Greeting { hello(name: "Himeji") }'
    import asyncio

    asyncio.run(publish(tmp_path, manifest(("Greeting", "query", body))))
    client = make_client({"persisted_documents": {"mode": "safelist", "directory": str(tmp_path)}})
    posted = client.post("/graphql", json={"documentId": sha256_hex(body)}, headers=JSON)
    assert posted.json() == {"data": {"hello": "hello Himeji"}}
    preflighted = {"apollo-require-preflight": "true"}   # what Apollo clients send on GET (CSRF prevention)
    got = client.get("/graphql", params={"extensions": orjson.dumps(apq(sha256_hex(body))).decode()},
                     headers=preflighted)
    assert got.json() == {"data": {"hello": "hello Himeji"}}
    refused = client.get("/graphql", params={"query": "{ hello }"}, headers=preflighted)
    assert code(refused) == "QUERY_NOT_IN_SAFELIST"


# -- Redis -----------------------------------------------------------------------------------------------


async def test_the_redis_store_is_shared_by_two_gateways(supergraph, tmp_path):
    import redis.asyncio as redis_asyncio   # a declared dependency: a missing one must fail, not skip
    prefix = f"kyodo:test:{uuid.uuid4().hex}:"
    settings = {"mode": "safelist", "redis_url": "redis://127.0.0.1:6379/0", "key_prefix": prefix}
    from gateway.persisted import RedisStore

    store = RedisStore(settings["redis_url"], prefix)
    client = redis_asyncio.from_url(settings["redis_url"])
    try:
        await store.publish(parse_manifest(orjson.dumps(manifest(("Hello", "query", HELLO)))))
        first, second = Gateway(supergraph, settings, tmp_path), Gateway(supergraph, settings, tmp_path)
        (one,) = await first.post({"documentId": sha256_hex(HELLO)})
        (two,) = await second.post({"extensions": apq(sha256_hex(HELLO))})
        assert (one.status_code, two.status_code) == (200, 200)
        assert first.executor.ran == second.executor.ran == ["Hello"]
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        await store.close()


@pytest.mark.parametrize("document_id", ["", 42, ["a"]])
async def test_a_malformed_document_id_is_a_bad_request(supergraph, tmp_path, document_id):
    gateway = Gateway(supergraph, {"mode": "safelist"}, tmp_path)
    (response,) = await gateway.post({"documentId": document_id})
    assert (response.status_code, code(response)) == (400, "BAD_REQUEST")
    assert gateway.executor.ran == []


async def test_an_unreachable_redis_store_refuses_instead_of_letting_requests_through(supergraph, tmp_path):
    # nothing listens on port 1: the safelist cannot be read, so nothing runs
    gateway = Gateway(supergraph, {"mode": "safelist", "redis_url": "redis://127.0.0.1:1/0"}, tmp_path)
    by_id, as_text = await gateway.post({"documentId": sha256_hex(HELLO)}, {"query": HELLO})
    assert (by_id.status_code, code(by_id)) == (503, "SERVICE_UNAVAILABLE")
    assert (as_text.status_code, code(as_text)) == (503, "SERVICE_UNAVAILABLE")
    assert gateway.executor.ran == []
