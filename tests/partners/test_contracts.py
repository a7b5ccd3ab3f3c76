"""Contracts: a @tag-filtered API schema served at /contracts/<name>/graphql with its own validation and
introspection, and its SDL for download; through the real threaded things subgraph, and on the composed
kyodo supergraph (personal data and the relay's operations are not in the vendor contract)."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any, Iterator

import pytest
from graphql import GraphQLObjectType
from starlette.testclient import TestClient

from gateway.contracts import ContractError, contract_schema
from gateway.http import create_app
from gateway.settings import SettingsError, settings_from_mapping
from gateway.supergraph import load_supergraph
from tests.gateway_http.conftest import JSON
from tests.gateway_http.things_subgraph import things_supergraph

VENDOR = {"contracts": {"vendor": {"exclude": ["personal", "internal"]}}}
INTROSPECT = "{ __schema { queryType { fields { name } } mutationType { name } types { name } } }"


def tagged_things(url: str) -> str:
    """The things supergraph with the tag spec linked: receivedHeaders internal, Thing personal, the mutation internal."""
    sdl = things_supergraph(url)
    sdl = sdl.replace('  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)\n',
                      '  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)\n'
                      '  @link(url: "https://specs.apollo.dev/tag/v0.3")\n')
    sdl = sdl.replace("directive @link(", "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | "
                      "INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | "
                      "INPUT_FIELD_DEFINITION | SCHEMA\n\ndirective @link(")
    sdl = sdl.replace("receivedHeaders: [Header!]!", 'receivedHeaders: [Header!]! @tag(name: "internal")')
    sdl = sdl.replace("setGreeting(text: String!): String!", 'setGreeting(text: String!): String! @tag(name: "internal")')
    sdl = sdl.replace("type Thing\n  @join__type(graph: THINGS, key: \"id\")",
                      "type Thing\n  @join__type(graph: THINGS, key: \"id\")\n  @tag(name: \"personal\")")
    assert sdl.count("@tag(name: \"") == 3
    return sdl


@pytest.fixture
def client(things_server: Any) -> Iterator[Any]:
    opened: list[TestClient] = []

    def make(settings: dict) -> TestClient:
        supergraph = load_supergraph(tagged_things(things_server.url + "/graphql"))
        test_client = TestClient(create_app(settings_from_mapping(settings), supergraph), raise_server_exceptions=False)
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield make
    for test_client in opened:
        test_client.__exit__(None, None, None)


def test_the_contract_path_answers_through_the_real_subgraph_and_validates_against_the_contract(client):
    gateway = client(VENDOR)
    answered = gateway.post("/contracts/vendor/graphql", json={"query": '{ hello(name: "Kasai") }'}, headers=JSON)
    assert answered.json() == {"data": {"hello": "hello Kasai"}}
    outside = gateway.post("/contracts/vendor/graphql", json={"query": "{ receivedHeaders { name } }"}, headers=JSON)
    assert outside.status_code == 400
    assert outside.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    mutation = gateway.post("/contracts/vendor/graphql", json={"query": 'mutation { setGreeting(text: "x") }'},
                            headers=JSON)
    assert mutation.status_code == 400
    # the full API is unchanged on the main path
    full = gateway.post("/graphql", json={"query": "{ thing(id: 1) { id } }"}, headers=JSON)
    assert full.json() == {"data": {"thing": {"id": "1"}}}


def test_each_path_introspects_its_own_schema(client):
    gateway = client(VENDOR)
    contract = gateway.post("/contracts/vendor/graphql", json={"query": INTROSPECT}, headers=JSON).json()["data"]
    full = gateway.post("/graphql", json={"query": INTROSPECT}, headers=JSON).json()["data"]
    assert [f["name"] for f in contract["__schema"]["queryType"]["fields"]] == ["hello"]
    assert contract["__schema"]["mutationType"] is None
    contract_types = {t["name"] for t in contract["__schema"]["types"]}
    assert not contract_types & {"Thing", "Header", "Mutation"}
    assert {f["name"] for f in full["__schema"]["queryType"]["fields"]} == {"hello", "receivedHeaders", "thing"}


def test_the_contract_sdl_is_downloadable_and_the_full_sdl_follows_the_introspection_setting(client):
    gateway = client(VENDOR)
    sdl = gateway.get("/contracts/vendor/schema.graphql")
    assert sdl.status_code == 200 and sdl.headers["content-type"].startswith("text/plain")
    assert "hello(name: String! = \"world\"): String!" in sdl.text
    assert "receivedHeaders" not in sdl.text and "Thing" not in sdl.text and "join__" not in sdl.text
    full = gateway.get("/schema.graphql")
    assert full.status_code == 200 and "receivedHeaders" in full.text and "@tag" not in full.text
    closed = client({**VENDOR, "introspection": False})
    assert closed.get("/schema.graphql").status_code == 404
    assert closed.get("/contracts/vendor/schema.graphql").status_code == 200


def test_an_unknown_contract_is_not_found(client):
    gateway = client(VENDOR)
    assert gateway.post("/contracts/other/graphql", json={"query": "{ hello }"}, headers=JSON).status_code == 404


# -- the filter ---------------------------------------------------------------------------------------


def test_include_keeps_only_tagged_fields_and_types_no_field_uses_disappear(things_server):
    sdl = tagged_things(things_server.url).replace('hello(name: String! = "world"): String!',
                                                   'hello(name: String! = "world"): String! @tag(name: "public")')
    schema = contract_schema(sdl, include=["public"])
    assert list(schema.query_type.fields) == ["hello"]
    assert schema.mutation_type is None
    assert "Header" not in schema.type_map and "Thing" not in schema.type_map


def test_a_contract_that_empties_a_type_removes_the_fields_returning_it(things_server):
    sdl = tagged_things(things_server.url).replace("  name: String!\n  value: String!",
                                                   '  name: String! @tag(name: "secret")\n  value: String! @tag(name: "secret")')
    schema = contract_schema(sdl, exclude=["secret"])
    assert "receivedHeaders" not in schema.query_type.fields and "Header" not in schema.type_map
    assert "hello" in schema.query_type.fields


def test_a_contract_leaving_no_query_field_is_refused(things_server):
    with pytest.raises(ContractError):
        contract_schema(tagged_things(things_server.url), include=["nothing-has-this"])


@pytest.mark.parametrize(("contracts", "key"), [
    ({"vendor": {}}, "contracts.vendor"),
    ({"vendor": {"exclude": ["a"], "include": ["a"]}}, "contracts.vendor"),
    ({"vendor": {"exclude": "personal"}}, "contracts.vendor.exclude"),
    ({"bad/name": {"exclude": ["a"]}}, "contracts"),
])
def test_bad_contract_settings_are_one_line_errors(contracts, key):
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        settings_from_mapping({"contracts": contracts})


# -- the kyodo supergraph ------------------------------------------------------------------------------


def composed_kyodo_supergraph() -> str:
    from gateway.composition import compose
    from gateway.composition.source import SubgraphSource

    sources = []
    for name in ("childcare", "currency", "identity", "safety"):
        schema = importlib.import_module(f"subgraphs.{name}.schema").schema
        result = asyncio.run(schema.execute("{ _service { sdl } }"))
        sources.append(SubgraphSource(name, f"http://127.0.0.1:1/{name}", result.data["_service"]["sdl"]))
    return compose(sources)


def test_the_vendor_contract_of_kyodo_has_no_personal_data_and_no_relay_operations():
    sdl = composed_kyodo_supergraph()
    full = load_supergraph(sdl).api_schema
    vendor = contract_schema(sdl, exclude=["personal", "internal"])
    relay_only = {"pendingCurrencyGrants", "recordCurrencyGrantOutcome"}
    # the relay's outbox operations are in the supergraph, @inaccessible: in no API schema, contract or not
    for field in relay_only:
        line = next(line for line in sdl.splitlines() if line.strip().startswith(field))
        assert "@inaccessible" in line, line
    assert not relay_only & (set(full.query_type.fields) | set(full.mutation_type.fields))
    assert not relay_only & (set(vendor.query_type.fields) | set(vendor.mutation_type.fields))
    assert "CurrencyGrantOutcomeInput" not in full.type_map and "CurrencyGrantOutcomeInput" not in vendor.type_map
    personal = {"Resident", "Child", "PointAccount", "CardLink", "Vaccination", "IdentityAuditEntry", "VisitorStay",
                "CurrencyGrantRequest", "LedgerEntry", "WatchTag"}
    assert personal <= set(full.type_map)
    assert not personal & set(vendor.type_map)
    assert {"me", "resident", "child", "pointAccount", "identityAuditLog"}.isdisjoint(vendor.query_type.fields)
    # what a merchant builds on stays
    assert {"merchants", "merchant", "earningRules", "shelters", "aeds"} <= set(vendor.query_type.fields)
    # no field anywhere in the contract leads to a removed type
    for type_ in vendor.type_map.values():
        if isinstance(type_, GraphQLObjectType):
            assert type_.fields, type_.name


# -- callers bound to a contract ---------------------------------------------------------------------------


def principal(*roles: str) -> Any:
    from auth.principal import Principal

    return Principal(subject="client-1", municipality=None, roles=frozenset(roles), scopes=frozenset())


def test_a_vendor_is_served_only_through_its_contract(things_server):
    settings = settings_from_mapping({"contracts": {"vendor": {"exclude": ["personal", "internal"], "roles": ["vendor"]}}})
    supergraph = load_supergraph(tagged_things(things_server.url + "/graphql"))
    callers = {"vendor-token": principal("vendor"), "resident-token": principal("resident")}

    async def authenticate(request: Any) -> Any:
        return callers.get(request.headers.get("authorization", ""))

    with TestClient(create_app(settings, supergraph, authenticator=authenticate), raise_server_exceptions=False) as http:
        def post(path: str, token: str, query: str) -> Any:
            return http.post(path, json={"query": query}, headers={**JSON, "authorization": token})

        refused = post("/graphql", "vendor-token", INTROSPECT)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "/contracts/vendor/graphql" in refused.json()["errors"][0]["message"]
        assert post("/contracts/vendor/graphql", "vendor-token", "{ hello }").json() == {"data": {"hello": "hello world"}}
        assert post("/graphql", "resident-token", "{ hello }").json() == {"data": {"hello": "hello world"}}


def test_a_role_bound_to_two_contracts_is_a_settings_error(things_server):
    settings = settings_from_mapping({"contracts": {"a": {"exclude": ["x"], "roles": ["vendor"]},
                                                    "b": {"exclude": ["y"], "roles": ["vendor"]}}})
    with pytest.raises(SettingsError, match="bound to two contracts"):
        create_app(settings, load_supergraph(tagged_things(things_server.url)))


def test_kyodo_serve_refuses_a_contract_that_leaves_nothing_before_serving(tmp_path, capsys):
    from kyodo.cli import main

    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(tagged_things("http://127.0.0.1:1/graphql"))
    config = tmp_path / "gateway.toml"
    config.write_text('[auth]\nanonymous_only = true\n[contracts.vendor]\ninclude = ["nothing-has-this"]\n')
    assert main(["serve", "--supergraph", str(supergraph), "--config", str(config), "--port", "1"]) == 2
    assert "contracts.vendor: the contract leaves no Query field" in capsys.readouterr().err


def test_an_excluded_argument_goes_and_a_field_whose_required_argument_goes_is_removed(things_server):
    sdl = (tagged_things(things_server.url)
           .replace('hello(name: String! = "world")', 'hello(name: String! = "world" @tag(name: "secret"))')
           .replace("thing(id: ID!)", 'thing(id: ID! @tag(name: "secret"))'))
    schema = contract_schema(sdl, exclude=["secret"])
    assert "hello" in schema.query_type.fields and not schema.query_type.fields["hello"].args
    assert "thing" not in schema.query_type.fields   # it cannot be called without its id
