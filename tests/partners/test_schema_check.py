"""`kyodo check OLD NEW [--operations MANIFEST]`: breaking / dangerous / safe, the operations a change breaks,
and exit codes for CI."""

from __future__ import annotations

from pathlib import Path

import orjson
from graphql import build_schema

from gateway.persisted import sha256_hex
from gateway.schema_check import classify_changes
from kyodo.cli import main
from tests.partners.test_contracts import tagged_things

OLD = """
type Query { shelters(city: String): [Shelter!]! merchant(id: ID!): Merchant }
type Shelter { id: ID! name: String! capacity: Int }
type Merchant { id: ID! name: String! category: Category }
enum Category { FOOD BOOKS }
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def levels(old: str, new: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"breaking": set(), "dangerous": set(), "safe": set()}
    for change in classify_changes(build_schema(old), build_schema(new)):
        found[change.level].add(change.kind)
    return found


def test_each_change_is_classified():
    new = (OLD.replace("capacity: Int", "capacity: String")                 # type changed: breaking
              .replace("name: String! category", "name: String! phone: String category")   # field added: safe
              .replace("FOOD BOOKS", "FOOD BOOKS TOYS")                     # enum value added: dangerous
              .replace("shelters(city: String)", "shelters(city: String, open: Boolean)")  # optional arg: dangerous
           ) + "type Aed { id: ID! }\n"                                      # type added: safe
    found = levels(OLD, new)
    assert found["breaking"] == {"FIELD_CHANGED_KIND"}
    assert found["dangerous"] == {"VALUE_ADDED_TO_ENUM", "OPTIONAL_ARG_ADDED"}
    # capacity was the last Int: graphql-core calls that a removal; it is not breaking for any client
    assert found["safe"] == {"FIELD_ADDED", "TYPE_ADDED", "TYPE_REMOVED"}


def test_no_change_is_no_change():
    assert classify_changes(build_schema(OLD), build_schema(OLD)) == []


def test_exit_codes_for_ci(tmp_path, capsys):
    old = write(tmp_path, "old.graphql", OLD)
    safe = write(tmp_path, "safe.graphql", OLD + "type Aed { id: ID! }\n")
    dangerous = write(tmp_path, "dangerous.graphql", OLD.replace("FOOD BOOKS", "FOOD BOOKS TOYS"))
    breaking = write(tmp_path, "breaking.graphql", OLD.replace("capacity: Int", ""))
    assert main(["check", old, safe]) == 0
    assert main(["check", old, dangerous]) == 0
    assert main(["check", old, breaking]) == 1
    out = capsys.readouterr().out
    assert "breaking   FIELD_REMOVED" in out and "Shelter.capacity was removed" in out
    assert main(["check", old, str(tmp_path / "absent.graphql")]) == 2
    assert main(["check", old, write(tmp_path, "broken.graphql", "type Query {")]) == 2
    assert "kyodo check:" in capsys.readouterr().err


def test_the_operations_a_change_breaks_are_named(tmp_path, capsys):
    operations = {
        "ShelterCapacity": "query ShelterCapacity { shelters { id capacity } }",   # capacity: Int -> String
        "MerchantName": 'query MerchantName { merchant(id: "1") { name } }',        # merchant needs a new arg
        "ShelterNames": "query ShelterNames { shelters { name } }",                 # untouched
    }
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{"id": sha256_hex(body), "name": name, "type": "query", "body": body}
                               for name, body in operations.items()]}
    new = OLD.replace("capacity: Int", "capacity: String").replace("merchant(id: ID!)", "merchant(id: ID!, city: String!)")
    args = ["check", write(tmp_path, "old.graphql", OLD), write(tmp_path, "new.graphql", new),
            "--operations", write(tmp_path, "manifest.json", orjson.dumps(manifest).decode())]
    assert main(args) == 1
    out = capsys.readouterr().out
    broken = {line.split()[1] for line in out.splitlines() if line.startswith("operation ")}
    assert broken == {"ShelterCapacity", "MerchantName"}
    assert "city" in next(line for line in out.splitlines() if line.startswith("operation MerchantName"))
    assert "2 of 3 operations broken" in out


def test_contract_schemas_of_two_supergraphs_are_compared(tmp_path, capsys):
    old = tagged_things("http://127.0.0.1:1/graphql")
    # tomorrow: `hello` becomes internal, so it leaves the vendor contract (breaking there) ...
    new = old.replace('hello(name: String! = "world"): String!', 'hello(name: String! = "world"): String! @tag(name: "internal")')
    config = write(tmp_path, "gateway.toml", '[contracts.vendor]\nexclude = ["internal", "personal"]\n')
    paths = [write(tmp_path, "old.graphql", old), write(tmp_path, "new.graphql", new)]
    # ... but the full API is unchanged.
    assert main(["check", *paths]) == 0
    assert main(["check", *paths, "--contract", "vendor", "--config", config]) == 2   # nothing left in Query
    assert "no Query field" in capsys.readouterr().err
    newer = new.replace("thing(id: ID!): Thing", 'thing(id: ID!): Thing\n  extra: String')
    assert main(["check", paths[0], write(tmp_path, "newer.graphql", newer), "--contract", "vendor",
                 "--config", config]) == 1
    assert "Query.hello was removed" in capsys.readouterr().out
    assert main(["check", *paths, "--contract", "nope", "--config", config]) == 2
