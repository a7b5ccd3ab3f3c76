"""What federation directives mean inside one subgraph: which fields are external, shareable, used.

Mirrors Apollo's rules: a `@key` field marked `@external` on a type extension is not really external
("fake" external, kept for Federation 1 compatibility); a field is shareable when it is a key field, marked
`@shareable` (on itself or on its type, same extension-ness), or external but provided by a `@provides`.
"""

from __future__ import annotations

from gateway.composition.field_sets import context_selection_fields, parse_context, target_fields
from gateway.composition.model import FieldDef, TypeDef
from gateway.composition.subgraph import Subgraph
from gateway.composition.type_refs import named_type

Coordinate = tuple[str, str]


class FederationFacts:
    def __init__(self, subgraph: Subgraph) -> None:
        self.subgraph = subgraph
        self.fake_external: set[Coordinate] = set()
        self.provided: set[Coordinate] = set()
        self.external_on_type: set[Coordinate] = set()
        self.used: set[Coordinate] = set()
        self.shareable: set[Coordinate] = set()
        self._collect()

    def _collect(self) -> None:
        sg = self.subgraph
        for t in sg.types.values():
            if t.kind not in ("OBJECT", "INTERFACE"):
                continue
            for key in t.all_of("key"):
                fields = key.string_arg("fields") or ""
                if key.on_extension or t.has("extends"):
                    for coord in target_fields(sg, t.name, fields, with_implementations=False):
                        f = sg.types[coord[0]].fields[coord[1]]
                        if f.has("external"):
                            self.fake_external.add(coord)
                self.used |= target_fields(sg, t.name, fields, with_implementations=True)
                self.shareable |= target_fields(sg, t.name, fields, with_implementations=True)
            if sg.is_fed2 and t.kind == "OBJECT" and t.has("external"):
                self.external_on_type |= {(t.name, f) for f in t.fields}
            for f in t.fields.values():
                for requires in [d for d in f.directives if d.fed == "requires"]:
                    self.used |= target_fields(sg, t.name, requires.string_arg("fields") or "", True)
                for provides in [d for d in f.directives if d.fed == "provides"]:
                    base = named_type(f.type)
                    if sg.is_composite(base):
                        targets = target_fields(sg, base, provides.string_arg("fields") or "", True)
                        self.provided |= targets
                        self.used |= targets
        self._collect_context_uses()
        for t in sg.types.values():
            if t.kind != "INTERFACE":
                continue
            for impl in sg.implementations(t.name):
                for name in t.fields:
                    if name in impl.fields:
                        self.used.add((impl.name, name))
        # Shareability needs externality, which needs the sets above.
        for t in sg.types.values():
            if t.kind != "OBJECT":
                continue
            shareable_on_type = t.all_of("shareable") if sg.is_fed2 else []
            for f in t.fields.values():
                if (sg.is_fed2 and f.has("shareable")) or any(d.on_extension == f.on_extension for d in shareable_on_type):
                    self.shareable.add((t.name, f.name))
                for provides in [d for d in f.directives if d.fed == "provides"]:
                    base = named_type(f.type)
                    if sg.is_composite(base):
                        for coord in target_fields(sg, base, provides.string_arg("fields") or "", True):
                            if self.is_external_coord(coord):
                                self.shareable.add(coord)

    def _collect_context_uses(self) -> None:
        """Fields an `@fromContext` selection reads on the types carrying that `@context` are used."""
        sg = self.subgraph
        by_context: dict[str, list[str]] = {}
        for t in sg.types.values():
            for d in t.directives:
                if d.fed == "context" and d.string_arg("name"):
                    by_context.setdefault(d.string_arg("name") or "", []).append(t.name)
        for t in sg.types.values():
            for f in t.fields.values():
                for a in f.args.values():
                    applied = a.from_context()
                    if applied is None:
                        continue
                    context, selection = parse_context(applied.string_arg("field") or "")
                    for type_name in by_context.get(context, []):
                        self.used |= target_fields(sg, type_name, context_selection_fields(selection), True)

    def is_external_coord(self, coord: Coordinate) -> bool:
        t = self.subgraph.types.get(coord[0])
        if t is None or coord[1] not in t.fields:
            return False
        f = t.fields[coord[1]]
        return (f.has("external") or coord in self.external_on_type) and coord not in self.fake_external

    def is_external(self, t: TypeDef, f: FieldDef) -> bool:
        return self.is_external_coord((t.name, f.name))

    def is_fully_external(self, t: TypeDef, f: FieldDef) -> bool:
        return self.is_external(t, f) and (t.name, f.name) not in self.provided

    def is_partially_external(self, t: TypeDef, f: FieldDef) -> bool:
        return self.is_external(t, f) and (t.name, f.name) in self.provided

    def is_shareable(self, t: TypeDef, f: FieldDef) -> bool:
        return (t.name, f.name) in self.shareable

    def is_used(self, t: TypeDef, f: FieldDef) -> bool:
        return (t.name, f.name) in self.used
