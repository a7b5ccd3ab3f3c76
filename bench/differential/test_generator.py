"""The generator's own checks (no node needed): `.venv/bin/pytest -q bench/differential`."""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import FieldNode, InlineFragmentNode, Visitor, parse, print_ast, validate, visit

from bench.differential.compare import Answer, compare
from bench.differential.generator import ArgumentPool, OperationGenerator
from gateway.supergraph import load_supergraph

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "federation"))
from engine_kit import supergraph_sdl  # noqa: E402
from municipal_kit import MUNICIPAL_SUPERGRAPH  # noqa: E402

SCHEMA = load_supergraph(supergraph_sdl({g: f"http://127.0.0.1:1/{g.lower()}" for g in
                                         ("IDENTITY", "CURRENCY", "CHILDCARE", "SAFETY")}, MUNICIPAL_SUPERGRAPH)).api_schema

ABSTRACT = load_supergraph(supergraph_sdl({"A": "http://127.0.0.1:1/a"}, """
type Query @join__type(graph: A) { node(id: ID!): Node @join__field(graph: A) search(kind: Kind = ONE): [Hit!]! @join__field(graph: A) }
interface Node @join__type(graph: A) { id: ID! }
type Book implements Node @join__type(graph: A) @join__implements(graph: A, interface: "Node") { id: ID! title: String }
type Film implements Node @join__type(graph: A) @join__implements(graph: A, interface: "Node") { id: ID! minutes: Int }
union Hit @join__type(graph: A) @join__unionMember(graph: A, member: "Book") @join__unionMember(graph: A, member: "Film") = Book | Film
enum Kind @join__type(graph: A) { ONE TWO }
""")).api_schema


def test_every_generated_operation_is_valid_and_reparses_to_itself() -> None:
    for schema in (SCHEMA, ABSTRACT):
        generator = OperationGenerator(schema)
        for seed in range(150):
            op = generator.generate(seed)
            assert op is not None
            reparsed = parse(op.text)
            assert validate(schema, reparsed) == []
            assert print_ast(reparsed) == op.text


def test_the_same_seed_gives_the_same_operation() -> None:
    first = [OperationGenerator(ABSTRACT).generate(seed) for seed in range(30)]
    again = [OperationGenerator(ABSTRACT).generate(seed) for seed in range(30)]
    assert [(o.text, o.variables) for o in first if o] == [(o.text, o.variables) for o in again if o]
    assert len({o.text for o in first if o}) > 25


def test_generated_operations_use_the_features_the_brief_asks_for() -> None:
    seen: set[str] = set()

    class Features(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            if node.alias is not None:
                seen.add("alias")
            if any(a.value.kind == "variable" for a in node.arguments if a.name.value != "if"):
                seen.add("argument variable")
            if node.arguments:
                seen.add("argument")
            for directive in node.directives:
                seen.add(f"@{directive.name.value} " + directive.arguments[0].value.kind)

        def enter_inline_fragment(self, node: InlineFragmentNode, *_: object) -> None:
            seen.add("inline fragment")

        def enter_fragment_definition(self, *_: object) -> None:
            seen.add("named fragment")

        def enter_variable_definition(self, node, *_: object) -> None:  # type: ignore[no-untyped-def]
            if node.default_value is not None:
                seen.add("variable default")

    generator = OperationGenerator(ABSTRACT, ArgumentPool.from_operations(ABSTRACT, ['{ node(id: "b1") { id } }']))
    for seed in range(200):
        op = generator.generate(seed)
        assert op is not None
        visit(op.document, Features())
    assert {"alias", "argument", "argument variable", "inline fragment", "named fragment", "variable default",
            "@skip boolean_value", "@include variable"} <= seen, seen


def test_argument_values_come_from_the_examples() -> None:
    pool = ArgumentPool.from_operations(ABSTRACT, ['{ node(id: "b1") { id } }', "{ search(kind: TWO) { __typename } }"])
    assert [v.value for v in pool.by_argument["Query.node(id)"]] == ["b1"]  # type: ignore[attr-defined]
    assert [v.value for v in pool.by_type["Kind"]] == ["TWO"]  # type: ignore[attr-defined]


def test_compare_names_the_kind_of_difference() -> None:
    same = compare(Answer(200, {"data": {"a": [1, {"b": 2}]}}), Answer(200, {"data": {"a": [1, {"b": 2}]}}))
    assert same.agree
    data = compare(Answer(200, {"data": {"a": [{"b": 2}]}}), Answer(200, {"data": {"a": [{"b": None}]}}))
    assert (data.agree, data.kind, data.data_path) == (False, "data", ("a", "[]", "b", "<null vs value>"))
    errors = compare(Answer(200, {"data": {"a": 1}, "errors": [{"message": "x", "path": ["a"]}]}),
                     Answer(200, {"data": {"a": 1}}))
    assert errors.kind == "errors-kyodo-only"
    paths = compare(Answer(200, {"data": None, "errors": [{"message": "x", "path": ["a"]}]}),
                    Answer(200, {"data": None, "errors": [{"message": "x", "path": ["b"]}]}))
    assert paths.kind == "error-paths"
