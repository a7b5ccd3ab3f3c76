"""Fetch groups: the mutable units the planner fills before they become `Fetch` nodes."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.document import ConditionTerm
from gateway.planner.fetch_selection import FetchSelection


@dataclass
class FetchGroup:
    id: int
    subgraph: str
    path: tuple[str, ...]  # where in the response its entities sit ("@" for lists); () for root fetches
    entity_type: str | None  # None: a root fetch
    tag: str  # groups with the same subgraph/path/type but different representations differ by tag
    selection: FetchSelection = field(default_factory=FetchSelection)
    requires: FetchSelection | None = None
    key_fields: set[str] = field(default_factory=set)  # top-level representation fields that must be non-null
    deps: set[int] = field(default_factory=set)
    representation_typename: str | None = None
    accepted_types: frozenset[str] = frozenset()
    # (variable, required value) of every @skip/@include the fetch is needed under; the fetch is sent
    # only when all hold (an empty set: always)
    conditions: frozenset[tuple[str, bool]] = frozenset()


class GroupIndex:
    """All groups of one plan, with reuse that never creates a dependency cycle."""

    def __init__(self) -> None:
        self.groups: list[FetchGroup] = []
        self._by_key: dict[tuple[str, tuple[str, ...], str | None, str, frozenset[ConditionTerm]], list[FetchGroup]] = {}
        self._places: set[tuple[str, tuple[str, ...], str | None, str]] = set()

    def depends_on(self, group_id: int, other_id: int) -> bool:
        """True if group `group_id` is `other_id` or (transitively) waits for it."""
        seen: set[int] = set()
        stack = [group_id]
        while stack:
            g = stack.pop()
            if g == other_id:
                return True
            if g in seen:
                continue
            seen.add(g)
            stack.extend(self.groups[g].deps)
        return False

    def existing(self, subgraph: str, path: tuple[str, ...], entity_type: str | None, tag: str,
                 conditions: frozenset[tuple[str, bool]] = frozenset()) -> list[FetchGroup]:
        return self._by_key.get((subgraph, path, entity_type, tag, conditions), [])

    def used(self, subgraph: str, path: tuple[str, ...], entity_type: str | None, tag: str) -> bool:
        """Whether some group, under any conditions, already fetches from `subgraph` here (a choice
        that reuses it is likely to save a fetch once refinement merges siblings)."""
        return (subgraph, path, entity_type, tag) in self._places

    def get_or_create(self, subgraph: str, path: tuple[str, ...], entity_type: str | None, tag: str,
                      deps: set[int], representation: FetchSelection | None = None,
                      conditions: frozenset[tuple[str, bool]] = frozenset()) -> FetchGroup:
        # groups needed under different @skip/@include conditions stay apart here, so a fetch needed
        # only under an excluded selection is never sent; refinement may merge them back
        for candidate in self.existing(subgraph, path, entity_type, tag, conditions):
            # reuse only if none of the new dependencies already waits for this group, and the
            # representations agree (one response key per field name)
            if any(self.depends_on(d, candidate.id) for d in deps):
                continue
            if representation is not None and candidate.requires is not None \
                    and not compatible(candidate.requires, representation):
                continue
            candidate.deps |= deps
            return candidate
        group = FetchGroup(id=len(self.groups), subgraph=subgraph, path=path, entity_type=entity_type, tag=tag,
                           deps=set(deps), conditions=conditions)
        self.groups.append(group)
        self._by_key.setdefault((subgraph, path, entity_type, tag, conditions), []).append(group)
        self._places.add((subgraph, path, entity_type, tag))
        return group


def compatible(a: FetchSelection, b: FetchSelection) -> bool:
    """Whether two representation shapes can be merged: no field name read from two response keys."""
    by_name = {f.name: f for f in a.fields.values()}
    for f in b.fields.values():
        other = by_name.get(f.name)
        if other is None:
            continue
        if other.response_key != f.response_key:
            return False
        if f.sub is not None and other.sub is not None and not compatible(other.sub, f.sub):
            return False
    for key, frag in b.fragments.items():
        mine = a.fragments.get(key)
        if mine is not None and not compatible(mine.sub, frag.sub):
            return False
    return True
