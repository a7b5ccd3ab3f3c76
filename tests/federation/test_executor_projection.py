"""Response projection on plain data: field order, internal keys dropped, null propagation in GraphQL order."""

from __future__ import annotations

from graphql import build_schema, parse

from gateway.executor.projection import ObjectShape, Projector, ShapeCompiler

SCHEMA = build_schema("""
type Query { a: A list: [B!] maybe: [B] }
type A { x: Int! y: [B] z: String kind: Kind }
type B { w: Int! v: String }
enum Kind { BIG SMALL }
""")


def project(query: str, data: dict) -> tuple[object, list[dict]]:
    document = parse(query)
    compiler = ShapeCompiler(SCHEMA, {})
    errors: list[dict] = []
    root = ObjectShape(compiler.fields("Query", (document.definitions[0].selection_set,)))
    return Projector(compiler, errors, set()).project_object(root, "Query", data, None), errors


def test_client_order_and_aliases_and_internal_keys_dropped() -> None:
    data = {"a": {"__typename": "A", "_kyodo_x": 1, "z": "zed", "x": 3, "kind": "BIG"}}
    out, errors = project("{ a { kind z other: z x t: __typename } }", {"a": {**data["a"], "other": "zed"}})
    assert out == {"a": {"kind": "BIG", "z": "zed", "other": "zed", "x": 3, "t": "A"}}
    assert list(out["a"]) == ["kind", "z", "other", "x", "t"] and errors == []


def test_null_in_non_null_field_nulls_parent_after_earlier_fields_report_theirs() -> None:
    out, errors = project("{ a { y { w } x } }", {"a": {"y": [{"w": None}, {"w": 2}], "x": None}})
    assert out == {"a": None}
    # y's item error comes first (fields complete in order), then x's, which nulls `a`
    assert [e["path"] for e in errors] == [["a", "y", 0, "w"], ["a", "x"]]


def test_non_null_list_items_null_the_list_nullable_items_only_themselves() -> None:
    out, errors = project("{ list { w } maybe { w v } }", {"list": [{"w": 1}, {"w": None}],
                                                          "maybe": [{"w": None, "v": "a"}, None, {"w": 5, "v": "b"}]})
    assert out == {"list": None, "maybe": [None, None, {"w": 5, "v": "b"}]}
    assert [e["path"] for e in errors] == [["list", 1, "w"], ["maybe", 0, "w"]]


def test_unknown_enum_value_is_an_error() -> None:
    out, errors = project("{ a { kind x } }", {"a": {"kind": "HUGE", "x": 1}})
    assert out == {"a": {"kind": None, "x": 1}}
    assert errors[0]["path"] == ["a", "kind"]
