"""From a dependency graph of fetches to the nested Sequence/Parallel/Condition tree a plan shows.

Fetches that do not depend on each other (directly or through others) go side by side in a
`Parallel`; a fetch and what waits for it go in a `Sequence`. For dependency graphs that are
series-parallel (entity chains, @requires diamonds: what the planner builds) the tree orders exactly
the dependencies, so the executor, running the tree, starts each fetch as soon as its own
dependencies are done. A graph that is not series-parallel (an "N": a→c, b→c, b→d) has no exact
tree; there the fetches that wait for several independent branches wait for all of those branches.

Fetches run only under @skip/@include conditions are wrapped in `Condition` nodes, hoisted as high
as the fetches sharing them allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.document import ConditionTerm
from gateway.planner.nodes import Condition, Parallel, PlanNode, Sequence


@dataclass(frozen=True)
class TreeItem:
    """One fetch of the graph: its id, the ids it waits for, its node, the conditions it runs under."""

    id: int
    deps: frozenset[int]
    node: PlanNode
    conditions: frozenset[ConditionTerm] = frozenset()


def dependency_tree(items: list[TreeItem]) -> PlanNode | None:
    by_id = {item.id: item for item in items}
    deps = {item.id: frozenset(d for d in item.deps if d in by_id and d != item.id) for item in items}
    return _tree(sorted(by_id), deps, by_id, frozenset())


def _tree(ids: list[int], deps: dict[int, frozenset[int]], by_id: dict[int, TreeItem],
          active: frozenset[ConditionTerm]) -> PlanNode | None:
    if not ids:
        return None
    common = frozenset.intersection(*(by_id[i].conditions for i in ids)) - active
    if common:
        inner = _tree(ids, deps, by_id, active | common)
        return _wrap(inner, common) if inner is not None else None
    if len(ids) == 1:
        item = by_id[ids[0]]
        extra = item.conditions - active
        return _wrap(item.node, extra) if extra else item.node
    components = _components(ids, deps)
    if len(components) > 1:
        return _parallel([_tree(c, deps, by_id, active) for c in components])
    members = set(ids)
    roots = [i for i in ids if not (deps[i] & members)]
    if len(roots) == 1:
        head = _tree(roots, deps, by_id, active)
        tail = _tree([i for i in ids if i != roots[0]], deps, by_id, active)
        return _sequence([head, tail])
    # Several roots joined by fetches that wait for more than one of them: first each root with what
    # only it leads to, side by side; then the rest.
    reached = {r: _reachable(r, ids, deps) for r in roots}
    owner: dict[int, list[int]] = {}
    for i in ids:
        owner[i] = [r for r in roots if i in reached[r]]
    first = [[i for i in ids if owner[i] == [r]] for r in roots]
    rest = [i for i in ids if len(owner[i]) > 1]
    head = _parallel([_tree(group, deps, by_id, active) for group in first])
    return _sequence([head, _tree(rest, deps, by_id, active)])


def _wrap(node: PlanNode, terms: frozenset[ConditionTerm]) -> PlanNode:
    for variable, wanted in sorted(terms, reverse=True):
        node = Condition(variable=variable, if_clause=node) if wanted else Condition(variable=variable, else_clause=node)
    return node


def _sequence(parts: list[PlanNode | None]) -> PlanNode | None:
    nodes: list[PlanNode] = []
    for p in parts:
        if p is None:
            continue
        nodes.extend(p.nodes if isinstance(p, Sequence) else [p])
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else Sequence(nodes=tuple(nodes))


def _parallel(parts: list[PlanNode | None]) -> PlanNode | None:
    nodes: list[PlanNode] = []
    for p in parts:
        if p is None:
            continue
        nodes.extend(p.nodes if isinstance(p, Parallel) else [p])
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else Parallel(nodes=tuple(nodes))


def _components(ids: list[int], deps: dict[int, frozenset[int]]) -> list[list[int]]:
    """Weakly connected components of the graph restricted to `ids`, each sorted, by smallest id."""
    members = set(ids)
    neighbours: dict[int, set[int]] = {i: set() for i in ids}
    for i in ids:
        for d in deps[i] & members:
            neighbours[i].add(d)
            neighbours[d].add(i)
    seen: set[int] = set()
    out: list[list[int]] = []
    for start in ids:
        if start in seen:
            continue
        component, stack = [], [start]
        seen.add(start)
        while stack:
            n = stack.pop()
            component.append(n)
            for m in neighbours[n]:
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
        out.append(sorted(component))
    return out


def _reachable(root: int, ids: list[int], deps: dict[int, frozenset[int]]) -> set[int]:
    """`root` and every fetch in `ids` that (transitively) waits for it."""
    members = set(ids)
    found = {root}
    changed = True
    while changed:
        changed = False
        for i in ids:
            if i not in found and deps[i] & found & members:
                found.add(i)
                changed = True
    return found
