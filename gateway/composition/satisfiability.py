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
from gateway.composition.supergraph_model import SApplied, SupergraphModel
from gateway.composition.type_refs import named_type

State = tuple[int, str]  # (subgraph index, type name)


class Satisfiability:
    def __init__(self, subgraphs: list[Subgraph], facts: list[FederationFacts], model: SupergraphModel) -> None:
        self.subgraphs = subgraphs
        self.facts = facts
        self.model = model
        self._closures: dict[State, set[State]] = {}
        self._in_progress: set[State] = set()
        self._requirements: dict[tuple[int, str, str], bool] = {}

    def resolves(self, i: int, type_name: str, field_name: str) -> bool:
        sg = self.subgraphs[i]
        t = sg.types.get(type_name)
        if t is None or t.kind not in ("OBJECT", "INTERFACE"):
            return False
        f = t.fields.get(field_name)
        if f is None:
            return False
        if self.facts[i].is_external(t, f):
            return (type_name, field_name) in self.facts[i].provided
        requires = f.first("requires")
        return requires is None or self._requirement_met(i, type_name, requires.string_arg("fields") or "")

    def _requirement_met(self, i: int, type_name: str, fields: str) -> bool:
        """A @requires can be fulfilled: its fields are reachable from this subgraph through @key jumps."""
        key = (i, type_name, fields)
        if key not in self._requirements:
            self._requirements[key] = True  # assume met while computing (a requirement cycle)
            try:
                selection_set = parse_selection_set(fields)
            except FieldSetError:
                self._requirements[key] = False
            else:
                self._requirements[key] = self._selection_resolvable(self._closure((i, type_name)), selection_set)
        return self._requirements[key]

    def _selection_resolvable(self, members: set[State], selection_set: SelectionSetNode) -> bool:
        """Every field of the selection can be produced by one of `members` (nested entities may need
        further @key jumps, as the query planner would make)."""
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                if not self._selection_resolvable(members, selection.selection_set):
                    return False
                continue
            if not isinstance(selection, FieldNode):
                return False
            name = selection.name.value
            if name == "__typename":
                continue
            resolved = False
            for j, t in sorted(members):
                if not self.resolves(j, t, name):
                    continue
                if selection.selection_set is None:
                    resolved = True
                    break
                field = self.subgraphs[j].types[t].fields[name]
                nested: set[State] = set()
                for state in self._runtime_states(j, named_type(field.type)):
                    nested |= self._closure(state)
                if self._selection_resolvable(nested, selection.selection_set):
                    resolved = True
                    break
            if not resolved:
                return False
        return True

    def _key_targets(self, state: State) -> list[tuple[State, list[str]]]:
        """Other subgraphs' definitions of this entity (or of an @interfaceObject standing for one of its
        interfaces), with their resolvable keys."""
        i, type_name = state
        merged = self.model.types.get(type_name)
        names = [type_name] + (list(merged.interfaces) if merged is not None and merged.kind == "OBJECT" else [])
        out = []
        for j, other in enumerate(self.subgraphs):
            for name in names:
                t = other.types.get(name)
                if t is None or t.kind not in ("OBJECT", "INTERFACE") or (j, name) == state:
                    continue
                if name != type_name and not other.is_interface_object(t):
                    continue
                keys = [k.string_arg("fields") or "" for k in t.all_of("key") if k.bool_arg("resolvable", True)]
                if keys:
                    out.append(((j, name), keys))
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
        """Every (subgraph, type) reachable from `start` by @key jumps; key fields may be gathered from any
        subgraph already reached."""
        if start in self._closures:
            return self._closures[start]
        if start in self._in_progress:
            return {start}  # a cycle through nested key fields: no further moves from here
        self._in_progress.add(start)
        members = {start}
        targets = self._key_targets(start)
        changed = True
        while changed:
            changed = False
            for target, keys in targets:
                if target in members:
                    continue
                for fields in keys:
                    try:
                        selection_set = parse_selection_set(fields)
                    except FieldSetError:
                        continue
                    if self._selection_resolvable(members, selection_set):
                        members.add(target)
                        changed = True
                        break
        self._in_progress.discard(start)
        self._closures[start] = members
        return members

    def check(self) -> list[str]:
        """Errors for fields that none of the subgraphs able to return their parent can reach.

        Options are grouped by the supergraph field that returned the value (its coordinate), a union over
        all query paths through that field: never stricter than Apollo's per-path check.
        """
        options: dict[tuple[str, str], set[State]] = {}  # (returning coordinate, type) -> (subgraph, type) states
        queue: deque[tuple[str, str]] = deque()

        def add(coordinate: str, state: State) -> None:
            key = (coordinate, state[1])
            group = options.setdefault(key, set())
            if state not in group:
                group.add(state)
                if key not in queue:
                    queue.append(key)

        for i, sg in enumerate(self.subgraphs):
            for root in sg.roots.values():
                t = sg.types.get(root)
                for f in (t.fields.values() if t is not None else ()):
                    if self.resolves(i, root, f.name):
                        for state in self._runtime_states(i, named_type(f.type)):
                            add(f"{root}.{f.name}", state)
        while queue:
            key = queue.popleft()
            type_name = key[1]
            reachable = set().union(*(self._closure(state) for state in options[key]))
            for j, local_name in reachable:
                local = self.subgraphs[j].types.get(local_name)
                if local is None or local.kind not in ("OBJECT", "INTERFACE"):
                    continue
                for f in local.fields.values():
                    if self.resolves(j, local_name, f.name):
                        for state in self._runtime_states(j, named_type(f.type)):
                            add(f"{type_name}.{f.name}", state)
        return self._unsatisfied(options)

    def _unsatisfied(self, options: dict[tuple[str, str], set[State]]) -> list[str]:
        errors: list[str] = []
        reported: set[tuple[str, str]] = set()
        roots = set(self.model.roots.values())
        for (coordinate, type_name), states in options.items():
            merged = self.model.types.get(type_name)
            if merged is None or type_name in roots:
                continue
            if not any(self.subgraphs[i].types[type_name].kind == "OBJECT" for i, _ in states):
                continue  # interfaces are checked through their implementations
            reachable = set().union(*(self._closure(state) for state in states))
            if _inaccessible(merged.directives):
                continue  # not in the API schema: nobody can ask for it
            for field_name, field in merged.fields.items():
                if _inaccessible(field.directives):
                    continue
                if (type_name, field_name) in reported or any(
                        self._resolves_in(j, t, field_name) for j, t in reachable):
                    continue
                reported.add((type_name, field_name))
                owners = [sg.name for j, sg in enumerate(self.subgraphs) if self._resolves_in(j, type_name, field_name)]
                sources = sorted({self.subgraphs[i].name for i, _ in states})
                errors.append(
                    f'Field "{type_name}.{field_name}" cannot be satisfied for "{type_name}" values returned by '
                    f'"{coordinate}" (from ' + ", ".join(f'subgraph "{n}"' for n in sources) + "): "
                    + ("the field is resolved by " + ", ".join(f'subgraph "{o}"' for o in owners) if owners
                       else self._why_unresolvable(type_name, field_name))
                    + ", and no @key leads there (key fields must be resolvable where the value comes from, and "
                    "the key resolvable in the target subgraph).")
        return errors

    def _why_unresolvable(self, type_name: str, field_name: str) -> str:
        for j, sg in enumerate(self.subgraphs):
            t = sg.types.get(type_name)
            f = t.fields.get(field_name) if t is not None else None
            requires = f.first("requires") if f is not None else None
            if requires is not None:
                return (f'subgraph "{sg.name}" resolves it only with @requires(fields: "{requires.string_arg("fields")}"), '
                        f'whose fields cannot be reached from "{sg.name}"')
        return "no subgraph resolves the field"

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


def _inaccessible(directives: list[SApplied]) -> bool:
    return any(d.name == "inaccessible" for d in directives)
