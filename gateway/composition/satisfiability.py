"""A reduced satisfiability check: can every field the supergraph exposes actually be fetched?

Apollo explores every query path of the supergraph. This check works per (subgraph, type) instead:
starting from each subgraph's root fields, it follows the fields a subgraph resolves and the `@key`
jumps it can make (a key whose fields it resolves itself, into a subgraph where that key is resolvable),
and reports a field of a reached object type that no subgraph reachable from there resolves. It is
lenient where paths matter (fields a `@provides` makes available, `@requires`, overridden fields count
as resolvable), so it may accept what Apollo rejects, never the other way round on the cases we test.
"""

from __future__ import annotations

from collections import deque

from gateway.composition.federation_facts import FederationFacts
from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.composition.field_sets import FieldSetError, parse_selection_set
from gateway.composition.subgraph import Subgraph
from gateway.composition.supergraph_model import SupergraphModel
from gateway.composition.type_refs import named_type

State = tuple[int, str]  # (subgraph index, type name)


class Satisfiability:
    def __init__(self, subgraphs: list[Subgraph], facts: list[FederationFacts], model: SupergraphModel) -> None:
        self.subgraphs = subgraphs
        self.facts = facts
        self.model = model
        self._closures: dict[State, set[State]] = {}
        self._in_progress: set[State] = set()

    def resolves(self, i: int, type_name: str, field_name: str) -> bool:
        sg = self.subgraphs[i]
        t = sg.types.get(type_name)
        if t is None or t.kind not in ("OBJECT", "INTERFACE"):
            return False
        f = t.fields.get(field_name)
        if f is None:
            return False
        if not self.facts[i].is_external(t, f):
            return True
        return (type_name, field_name) in self.facts[i].provided

    def _key_resolvable_from(self, i: int, type_name: str, fields: str) -> bool:
        """Subgraph i can produce this key's fields for `type_name`: its top-level fields itself, nested
        entity fields possibly through further @key jumps (as the query planner would)."""
        try:
            selection_set = parse_selection_set(fields)
        except FieldSetError:
            return False
        return self._selection_resolvable(i, type_name, selection_set, local_only=True)

    def _selection_resolvable(self, i: int, type_name: str, selection_set: SelectionSetNode, local_only: bool) -> bool:
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition.name.value if selection.type_condition else type_name
                if not self._selection_resolvable(i, condition, selection.selection_set, local_only):
                    return False
                continue
            if not isinstance(selection, FieldNode):
                return False
            name = selection.name.value
            if name == "__typename":
                continue
            candidates = [(i, type_name)] if local_only else sorted(self._closure((i, type_name)))
            resolved = False
            for j, t in candidates:
                if not self.resolves(j, t, name):
                    continue
                if selection.selection_set is None:
                    resolved = True
                    break
                field = self.subgraphs[j].types[t].fields[name]
                if self._selection_resolvable(j, named_type(field.type), selection.selection_set, local_only=False):
                    resolved = True
                    break
            if not resolved:
                return False
        return True

    def jumps(self, state: State) -> list[State]:
        """Subgraphs a @key lets us move to from this state (also into @interfaceObject stand-ins)."""
        i, type_name = state
        merged = self.model.types.get(type_name)
        targets = [type_name] + (list(merged.interfaces) if merged is not None and merged.kind == "OBJECT" else [])
        out = []
        for j, other in enumerate(self.subgraphs):
            if j == i:
                continue
            for target in targets:
                t = other.types.get(target)
                if t is None or t.kind not in ("OBJECT", "INTERFACE"):
                    continue
                if target != type_name and not other.is_interface_object(t):
                    continue
                if any(key.bool_arg("resolvable", True)
                       and self._key_resolvable_from(i, type_name, key.string_arg("fields") or "")
                       for key in t.all_of("key")):
                    out.append((j, target))
        return out

    def _runtime_states(self, i: int, type_name: str) -> list[State]:
        """Where a value of `type_name` returned by subgraph i can lead: itself, or its possible object types."""
        sg = self.subgraphs[i]
        t = sg.types.get(type_name)
        if t is None:
            return []
        if t.kind == "UNION":
            return [(i, m) for m in t.members]
        if t.kind == "INTERFACE":
            return [(i, type_name)] + [(i, impl.name) for impl in sg.implementations(type_name)]
        if t.kind == "OBJECT":
            return [(i, type_name)]
        return []

    def _closure(self, start: State) -> set[State]:
        if start in self._closures:
            return self._closures[start]
        if start in self._in_progress:
            return {start}  # a cycle through key fields: no further moves from here
        self._in_progress.add(start)
        seen = {start}
        queue = deque([start])
        while queue:
            for nxt in self.jumps(queue.popleft()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        self._in_progress.discard(start)
        self._closures[start] = seen
        return seen

    def check(self) -> list[str]:
        """Errors for fields of a returned type that no subgraph returning it can reach."""
        returned: dict[State, str] = {}  # (subgraph that returns values of a type) -> first root field leading there
        queue: deque[State] = deque()

        def returned_by(state: State, via: str) -> None:
            if state not in returned:
                returned[state] = via
                queue.append(state)

        for i, sg in enumerate(self.subgraphs):
            for root in sg.roots.values():
                t = sg.types.get(root)
                for f in (t.fields.values() if t is not None else ()):
                    if self.resolves(i, root, f.name):
                        for state in self._runtime_states(i, named_type(f.type)):
                            returned_by(state, f"{root}.{f.name}")
        closures: dict[State, set[State]] = {}
        while queue:
            state = queue.popleft()
            closures[state] = self._closure(state)
            for j, type_name in closures[state]:
                t = self.subgraphs[j].types.get(type_name)
                if t is None or t.kind not in ("OBJECT", "INTERFACE"):
                    continue
                for f in t.fields.values():
                    if self.resolves(j, type_name, f.name):
                        for nxt in self._runtime_states(j, named_type(f.type)):
                            returned_by(nxt, returned[state])
        return self._unsatisfied(returned, closures)

    def _unsatisfied(self, returned: dict[State, str], closures: dict[State, set[State]]) -> list[str]:
        """Grouped by type (not by query path, as Apollo does): lenient, never stricter than Apollo."""
        by_type: dict[str, list[State]] = {}
        for state in returned:
            by_type.setdefault(state[1], []).append(state)
        errors: list[str] = []
        roots = set(self.model.roots.values())
        for type_name, states in by_type.items():
            merged = self.model.types.get(type_name)
            if merged is None or type_name in roots:
                continue
            if not any(self.subgraphs[i].types[type_name].kind == "OBJECT" for i, _ in states):
                continue  # interfaces are checked through their implementations
            for field_name in merged.fields:
                if any(self._resolves_in(j, t, field_name) for state in states for j, t in closures[state]):
                    continue
                owners = [sg.name for j, sg in enumerate(self.subgraphs) if self._resolves_in(j, type_name, field_name)]
                sources = [self.subgraphs[i].name for i, _ in states]
                errors.append(
                    f'Field "{type_name}.{field_name}" cannot be satisfied: "{type_name}" values come from '
                    + ", ".join(f'subgraph "{n}"' for n in sources)
                    + f' (e.g. through "{returned[states[0]]}"), '
                    + ("the field is resolved by " + ", ".join(f'subgraph "{o}"' for o in owners) if owners
                       else "no subgraph resolves the field")
                    + ", and no @key leads there (key fields must be resolvable where the value comes from, and the "
                    "key resolvable in the target subgraph).")
        return errors

    def _resolves_in(self, j: int, type_name: str, field_name: str) -> bool:
        """Resolvable in subgraph j, directly or through an @interfaceObject standing for one of its interfaces."""
        if self.resolves(j, type_name, field_name):
            return True
        merged = self.model.types.get(type_name)
        for itf in merged.interfaces if merged is not None and merged.kind == "OBJECT" else ():
            t = self.subgraphs[j].types.get(itf)
            if t is not None and self.subgraphs[j].is_interface_object(t) and self.resolves(j, itf, field_name):
                return True
        return False
