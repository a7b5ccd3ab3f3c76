"""Refinement passes over the planner's fetch groups (plain data), run after the search, before the tree.

Each pass takes the groups of one plan and returns the groups to keep, the same list object when it
changed nothing; `refine` runs the named passes in order, round after round, until a whole round
changes nothing (a fixed point). Every change removes a group, so there are at most as many rounds
as groups; the planning deadline is checked between passes. The search already reuses a group when it can (same subgraph, path and conditions), so on most
operations these passes change nothing; they catch what the search left apart: groups split by
@skip/@include conditions that are safe to send together, and groups left empty.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.planner.errors import Deadline, RefinementError
from gateway.planner.fetch_selection import FetchSelection
from gateway.planner.groups import FetchGroup, compatible


def prune_empty_fetches(groups: list[FetchGroup]) -> list[FetchGroup]:
    """Drop groups that select nothing; whatever waited for one now waits for what it waited for."""
    empty = {g.id: g for g in groups if g.selection.is_empty()}
    if not empty:
        return groups

    def through(dep: int, seen: frozenset[int] = frozenset()) -> set[int]:
        if dep not in empty:
            return {dep}
        if dep in seen:
            return set()
        out: set[int] = set()
        for d in empty[dep].deps:
            out |= through(d, seen | {dep})
        return out

    kept = [g for g in groups if g.id not in empty]
    for g in kept:
        deps: set[int] = set()
        for d in g.deps:
            deps |= through(d)
        deps.discard(g.id)
        g.deps = deps
    return kept


def merge_sibling_fetches(groups: list[FetchGroup]) -> list[FetchGroup]:
    """Merge groups that ask the same subgraph at the same response path for the same entity type,
    when neither waits for the other and their selections agree on every shared response key.

    The merged group runs under the conditions both share (usually: always), so it is merged only
    when everything either group waits for also runs under those conditions; the fields of the
    conditional group keep their own @skip/@include in the operation text.
    """
    by_id = {g.id: g for g in groups}
    removed: set[int] = set()
    for i, a in enumerate(groups):
        if a.id in removed:
            continue
        for b in groups[i + 1:]:
            if b.id in removed or not _same_target(a, b):
                continue
            if _waits_for(by_id, a.id, b.id) or _waits_for(by_id, b.id, a.id):
                continue
            if not _mergeable(a.selection, b.selection):
                continue
            if a.requires is not None and b.requires is not None and not compatible(a.requires, b.requires):
                continue
            conditions = a.conditions & b.conditions
            if any(not by_id[d].conditions <= conditions for d in (a.deps | b.deps) if d in by_id):
                continue
            _absorb(a, b, conditions)
            removed.add(b.id)
            for g in groups:
                if b.id in g.deps:
                    g.deps.discard(b.id)
                    if g.id != a.id:
                        g.deps.add(a.id)
    if not removed:
        return groups
    return [g for g in groups if g.id not in removed]


RefinementPass = Callable[[list[FetchGroup]], list[FetchGroup]]

# In order; each is named for what it does, and listed in a plan's refinement when it changed something.
PASSES: tuple[RefinementPass, ...] = (prune_empty_fetches, merge_sibling_fetches)


def refine(groups: list[FetchGroup], deadline: Deadline | None = None,
           passes: tuple[RefinementPass, ...] = PASSES) -> list[FetchGroup]:
    """Run the passes to a fixed point."""
    deadline = deadline or Deadline()
    for _round in range(len(groups) + 1):
        changed = False
        for step in passes:
            deadline.check(f"refinement ({step.__name__})")
            result = step(groups)
            if result is not groups:
                if len(result) >= len(groups):
                    raise RefinementError(f"refinement pass {step.__name__} changed the groups without removing one")
                changed = True
                groups = result
        if not changed:
            return groups
    raise RefinementError("refinement did not reach a fixed point")


def _same_target(a: FetchGroup, b: FetchGroup) -> bool:
    return (a.subgraph, a.path, a.entity_type, a.tag, a.representation_typename) == \
        (b.subgraph, b.path, b.entity_type, b.tag, b.representation_typename)


def _waits_for(by_id: dict[int, FetchGroup], group_id: int, other_id: int) -> bool:
    seen: set[int] = set()
    stack = list(by_id[group_id].deps)
    while stack:
        g = stack.pop()
        if g == other_id:
            return True
        if g in seen or g not in by_id:
            continue
        seen.add(g)
        stack.extend(by_id[g].deps)
    return False


def _mergeable(a: FetchSelection, b: FetchSelection) -> bool:
    """True if no response key means different things in `a` and `b` (field, arguments, directives)."""
    for key, f in b.fields.items():
        mine = a.fields.get(key)
        if mine is None:
            continue
        if mine.signature() != f.signature() or mine.sent_key != f.sent_key or (mine.sub is None) != (f.sub is None):
            return False
        if f.sub is not None and mine.sub is not None and not _mergeable(mine.sub, f.sub):
            return False
    for frag_key, frag in b.fragments.items():
        mine_frag = a.fragments.get(frag_key)
        if mine_frag is not None and not _mergeable(mine_frag.sub, frag.sub):
            return False
    return True


def _absorb(a: FetchGroup, b: FetchGroup, conditions: frozenset[tuple[str, bool]]) -> None:
    a.selection.merge_from(b.selection)
    if b.requires is not None:
        if a.requires is None:
            a.requires = b.requires
        else:
            a.requires.merge_from(b.requires)
    a.key_fields |= b.key_fields
    a.deps = (a.deps | b.deps) - {a.id, b.id}
    a.accepted_types = a.accepted_types | b.accepted_types
    a.conditions = conditions
