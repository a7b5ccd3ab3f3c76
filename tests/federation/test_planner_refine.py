"""Refinement passes and the dependency tree, on plan data built by hand (no subgraphs, no schema)."""

from __future__ import annotations

from engine_kit import plan_shape

from gateway.planner.dependency_tree import TreeItem, dependency_tree
from gateway.planner.fetch_selection import FetchSelection
from gateway.planner.groups import FetchGroup
from gateway.planner.nodes import Fetch
from gateway.planner.refine import merge_sibling_fetches, prune_empty_fetches, refine


def selection(*fields: str, directives: str = "") -> FetchSelection:
    sel = FetchSelection()
    for f in fields:
        sel.add_field(f, f, "", directives)
    return sel


def group(gid: int, subgraph: str, *fields: str, deps=(), path=("me",), conditions=frozenset(),
          directives: str = "") -> FetchGroup:
    entity = None if path == () else "Resident"
    g = FetchGroup(id=gid, subgraph=subgraph, path=path, entity_type=entity, tag="root" if entity is None else "",
                   selection=selection(*fields, directives=directives), deps=set(deps), conditions=conditions)
    if entity is not None:
        g.requires = selection("__typename", "id")
    return g


# -- prune_empty_fetches ------------------------------------------------------------------------------
def test_prune_empty_rewires_dependents_to_what_the_empty_group_waited_for() -> None:
    root = group(0, "IDENTITY", "me", path=())
    empty = group(1, "CURRENCY", deps={0})
    after = group(2, "SAFETY", "watchTags", deps={1})
    kept = prune_empty_fetches([root, empty, after])
    assert [g.id for g in kept] == [0, 2]
    assert after.deps == {0}


def test_prune_empty_follows_chains_of_empty_groups() -> None:
    groups = [group(0, "A", "x", path=()), group(1, "B", deps={0}), group(2, "C", deps={1}), group(3, "D", "y", deps={2})]
    kept = prune_empty_fetches(groups)
    assert [g.id for g in kept] == [0, 3] and kept[1].deps == {0}


# -- merge_sibling_fetches ----------------------------------------------------------------------------
def test_merge_joins_independent_siblings_and_rewires_dependents() -> None:
    root = group(0, "IDENTITY", "me", path=())
    a = group(1, "CURRENCY", "points", deps={0})
    b = group(2, "CURRENCY", "pointAccount", deps={0}, conditions=frozenset({("x", True)}), directives=" @include(if: $x)")
    later = group(3, "SAFETY", "watchTags", deps={2})
    kept = merge_sibling_fetches([root, a, b, later])
    assert [g.id for g in kept] == [0, 1, 3]
    assert list(a.selection.fields) == ["points", "pointAccount"]
    assert a.selection.fields["pointAccount"].directives_text == " @include(if: $x)"
    assert a.conditions == frozenset()  # sent whenever either was needed
    assert later.deps == {1}


def test_merge_keeps_shared_conditions() -> None:
    cond = frozenset({("x", True)})
    root = group(0, "IDENTITY", "me", path=())
    a = group(1, "CURRENCY", "points", deps={0}, conditions=cond)
    b = group(2, "CURRENCY", "pointAccount", deps={0}, conditions=cond | {("y", False)})
    kept = merge_sibling_fetches([root, a, b])
    assert [g.id for g in kept] == [0, 1] and a.conditions == cond


def test_merge_refuses_a_group_that_waits_for_the_other() -> None:
    a = group(1, "CURRENCY", "points", deps={0})
    b = group(2, "CURRENCY", "pointAccount", deps={3})
    between = group(3, "SAFETY", "watchTags", deps={1})
    kept = merge_sibling_fetches([group(0, "IDENTITY", "me", path=()), a, b, between])
    assert [g.id for g in kept] == [0, 1, 2, 3]


def test_merge_refuses_when_a_dependency_runs_under_a_condition_the_merged_fetch_would_not_have() -> None:
    cond = frozenset({("x", True)})
    conditional_key = group(1, "CHILDCARE", "children", deps={0}, conditions=cond)
    a = group(2, "CURRENCY", "points", deps={0})
    b = group(3, "CURRENCY", "pointAccount", deps={1}, conditions=cond)
    kept = merge_sibling_fetches([group(0, "IDENTITY", "me", path=()), conditional_key, a, b])
    assert [g.id for g in kept] == [0, 1, 2, 3]


def test_duplicate_fetches_collapse_into_one() -> None:
    a = group(1, "CURRENCY", "points", deps={0})
    b = group(2, "CURRENCY", "points", deps={0})
    kept = merge_sibling_fetches([group(0, "IDENTITY", "me", path=()), a, b])
    assert [g.id for g in kept] == [0, 1] and list(a.selection.fields) == ["points"]


def test_merge_refuses_one_key_meaning_two_things() -> None:
    a = group(1, "CURRENCY", "points", deps={0})
    b = group(2, "CURRENCY", "points", deps={0}, directives=" @include(if: $x)")
    kept = merge_sibling_fetches([group(0, "IDENTITY", "me", path=()), a, b])
    assert len(kept) == 3


def test_merge_refuses_other_subgraph_or_path() -> None:
    a = group(1, "CURRENCY", "points", deps={0})
    b = group(2, "SAFETY", "watchTags", deps={0})
    c = group(3, "CURRENCY", "pointAccount", deps={0}, path=("me", "children", "@"))
    assert len(merge_sibling_fetches([group(0, "IDENTITY", "me", path=()), a, b, c])) == 4


def test_refine_runs_every_pass() -> None:
    groups = [group(0, "IDENTITY", "me", path=()), group(1, "CURRENCY", deps={0}),
              group(2, "SAFETY", "a", deps={1}), group(3, "SAFETY", "b", deps={0})]
    kept = refine(groups)
    assert [g.id for g in kept] == [0, 2]
    assert list(kept[1].selection.fields) == ["a", "b"] and kept[1].deps == {0}


# -- dependency_tree ----------------------------------------------------------------------------------
def item(gid: int, subgraph: str, deps=(), conditions=()) -> TreeItem:
    return TreeItem(id=gid, deps=frozenset(deps), node=Fetch(subgraph=subgraph, operation="{ x }", variable_usages=()),
                    conditions=frozenset(conditions))


def test_tree_of_independent_roots_with_chains() -> None:
    items = [item(0, "identity"), item(1, "currency", {0}), item(2, "childcare", {0}), item(3, "identity2", {2}),
             item(4, "safety", {0}), item(5, "safety_root")]
    assert plan_shape(dependency_tree(items)) == \
        "Parallel{Sequence{identity, Parallel{currency, Sequence{childcare, identity2}, safety}}, safety_root}"


def test_tree_of_a_diamond() -> None:
    items = [item(0, "a"), item(1, "b", {0}), item(2, "c", {0}), item(3, "d", {1, 2})]
    assert plan_shape(dependency_tree(items)) == "Sequence{a, Parallel{b, c}, d}"


def test_tree_of_two_roots_joined_later() -> None:
    # d waits for b and c, which wait for different roots; e waits only for a
    items = [item(0, "a"), item(1, "x"), item(2, "b", {0}), item(3, "c", {1}), item(4, "d", {2, 3}), item(5, "e", {0})]
    assert plan_shape(dependency_tree(items)) == "Sequence{Parallel{Sequence{a, Parallel{b, e}}, Sequence{x, c}}, d}"


def test_tree_hoists_shared_conditions_and_ignores_missing_dependencies() -> None:
    x, y = ("x", True), ("y", False)
    items = [item(0, "a"), item(1, "b", {0, 99}, [x]), item(2, "c", {1}, [x, y])]
    assert plan_shape(dependency_tree(items)) == "Sequence{a, Include($x){Sequence{b, Skip($y){c}}}}"


def test_empty_tree() -> None:
    assert dependency_tree([]) is None
