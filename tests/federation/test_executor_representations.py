"""How the executor finds entity objects and builds their representations (plain data, no subgraphs)."""

from __future__ import annotations

from dataclasses import replace

from gateway.executor.flat_representation import FlatRepresentation
from gateway.executor.representations import objects_at, objects_with_paths, path_list
from gateway.planner import Fetch, PlanField, PlanSelection


def fetch(flat, key_fields=("upc",), accepted=frozenset({"Product"}), fixed=None) -> Fetch:
    requires = PlanSelection(tuple(PlanField(key, name) for key, name in flat)) if flat is not None else None
    return Fetch(subgraph="INVENTORY", operation="", variable_usages=(), entity_type="Product",
                 requires=requires, key_fields=frozenset(key_fields), accepted_types=accepted,
                 representation_typename=fixed)


FLAT = (("__typename", "__typename"), ("upc", "upc"), ("_kyodo_price", "price"))


def test_each_entity_sent_once_with_every_object_it_stands_for() -> None:
    a = {"__typename": "Product", "upc": "p1", "_kyodo_price": 10}
    b = {"__typename": "Product", "upc": "p2", "_kyodo_price": 20}
    a_again = {"__typename": "Product", "upc": "p1", "_kyodo_price": 10, "name": "other copy"}
    reps, targets = FlatRepresentation.of(fetch(FLAT)).collect([a, b, a_again])
    # the client's key `_kyodo_price` goes out under the field's name
    assert reps == [{"__typename": "Product", "upc": "p1", "price": 10},
                    {"__typename": "Product", "upc": "p2", "price": 20}]
    assert targets[0] == [a, a_again] and targets[0][1] is a_again and targets[1] == [b]


def test_objects_without_their_key_or_of_another_type_are_left_out() -> None:
    found = [{"__typename": "Product", "upc": None, "_kyodo_price": 1},
             {"__typename": "Book", "upc": "b1", "_kyodo_price": 1},
             {"__typename": "Product", "upc": "p3", "_kyodo_price": None}]
    reps, targets = FlatRepresentation.of(fetch(FLAT)).collect(found)
    assert reps == [{"__typename": "Product", "upc": "p3", "price": None}] and targets == [[found[2]]]


def test_an_object_missing_a_field_sends_what_it_has() -> None:
    partial = {"upc": "p4"}  # no __typename, no price: the entity type stands in
    reps, _ = FlatRepresentation.of(fetch(FLAT)).collect([partial, {"upc": "p4"}])
    assert reps == [{"upc": "p4", "__typename": "Product"}]


def test_unhashable_values_are_compared_by_value() -> None:
    flat = (("__typename", "__typename"), ("upc", "upc"), ("tags", "tags"))
    found = [{"__typename": "Product", "upc": "p1", "tags": ["a"]}, {"__typename": "Product", "upc": "p1", "tags": ["a"]},
             {"__typename": "Product", "upc": "p1", "tags": ["b"]}]
    reps, targets = FlatRepresentation.of(fetch(flat)).collect(found)
    assert [r["tags"] for r in reps] == [["a"], ["b"]] and [len(t) for t in targets] == [2, 1]


def test_general_cases_are_not_compiled() -> None:
    nested = PlanSelection((PlanField("__typename", "__typename"), PlanField("upc", "upc"),
                            PlanField("dimensions", "dimensions", sub=PlanSelection((PlanField("size", "size"),)))))
    assert FlatRepresentation.of(replace(fetch(FLAT), requires=nested)) is None  # nested @requires
    assert FlatRepresentation.of(fetch(FLAT, fixed="Node")) is None  # interface object
    assert FlatRepresentation.of(fetch(FLAT, key_fields=("id",))) is None  # key not in the representation


def test_objects_at_walks_lists_and_skips_nulls_and_paths_come_on_demand() -> None:
    data = {"top": [{"p": {"upc": "1"}}, None, {"p": None}, {"p": {"upc": "2"}}]}
    assert objects_at(data, ["top", "@", "p"]) == [{"upc": "1"}, {"upc": "2"}]
    assert [path_list(at) for _, at in objects_with_paths(data, ["top", "@", "p"])] == [["top", 0, "p"], ["top", 3, "p"]]
