"""Typed model of a Federation 2 supergraph: which subgraph resolves which type and field.

The planner reads only this model (plus the graphql-core schemas); it never looks at join__ directives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLSchema, SelectionSetNode


@dataclass(frozen=True)
class SubgraphInfo:
    name: str  # join__Graph enum value, e.g. "ACCOUNTS"
    url: str


@dataclass(frozen=True)
class EntityKey:
    """One `@join__type(graph:, key:)`: the key's field set, parsed."""

    graph: str
    fields: str
    selection: SelectionSetNode
    resolvable: bool


@dataclass
class TypeOwnership:
    """Who knows one composite type (object, interface, union)."""

    name: str
    kind: str  # "object" | "interface" | "union" | "input" | "enum" | "scalar"
    graphs: set[str] = field(default_factory=set)  # graphs with a join__type (or all, if none)
    keys: list[EntityKey] = field(default_factory=list)
    interface_object_graphs: set[str] = field(default_factory=set)  # graphs that see this interface as an object
    extension_graphs: set[str] = field(default_factory=set)
    # interface name -> graphs where this type implements it
    implements: dict[str, set[str]] = field(default_factory=dict)
    # union only: member type -> graphs that list it
    union_members: dict[str, set[str]] = field(default_factory=dict)
    fields: dict[str, FieldOwnership] = field(default_factory=dict)

    def keys_in(self, graph: str) -> list[EntityKey]:
        return [k for k in self.keys if k.graph == graph]

    def resolvable_keys_in(self, graph: str) -> list[EntityKey]:
        return [k for k in self.keys if k.graph == graph and k.resolvable]


@dataclass
class FieldPresence:
    """One `@join__field(graph: …)` of a field (or the implicit one when the field has none)."""

    graph: str
    external: bool = False
    requires: SelectionSetNode | None = None
    requires_text: str | None = None
    provides: SelectionSetNode | None = None
    type_in_graph: str | None = None  # the field's type as the subgraph declares it, when it differs
    override_from: str | None = None
    used_overridden: bool = False


@dataclass
class FieldOwnership:
    name: str
    parent: str
    presences: dict[str, FieldPresence] = field(default_factory=dict)

    def resolvers(self) -> list[str]:
        """Graphs that resolve this field themselves (not external, not overridden away)."""
        return [g for g, p in self.presences.items() if not p.external and not p.used_overridden]


@dataclass
class Supergraph:
    sdl: str
    schema: GraphQLSchema
    api_schema: GraphQLSchema
    subgraphs: dict[str, SubgraphInfo]
    types: dict[str, TypeOwnership]
    graph_order: list[str]
    _possible_cache: dict[str, list[str]] = field(default_factory=dict, repr=False)

    # -- questions the planner asks ------------------------------------------------------------------
    def type_known_in(self, type_name: str, graph: str) -> bool:
        owner = self.types.get(type_name)
        return owner is not None and graph in owner.graphs

    def field_presence(self, type_name: str, field_name: str, graph: str) -> FieldPresence | None:
        owner = self.types.get(type_name)
        if owner is None:
            return None
        f = owner.fields.get(field_name)
        if f is None:
            return None
        return f.presences.get(graph)

    def resolves(self, type_name: str, field_name: str, graph: str) -> bool:
        p = self.field_presence(type_name, field_name, graph)
        return p is not None and not p.external and not p.used_overridden

    def is_abstract(self, type_name: str) -> bool:
        owner = self.types.get(type_name)
        return owner is not None and owner.kind in ("interface", "union")

    def possible_types(self, type_name: str) -> list[str]:
        """Concrete object types of an abstract type in the supergraph (the type itself if concrete)."""
        cached = self._possible_cache.get(type_name)
        if cached is not None:
            return cached
        t = self.schema.get_type(type_name)
        from graphql import is_abstract_type

        if t is not None and is_abstract_type(t):
            result: list[str] = [p.name for p in self.schema.get_possible_types(t)]
        else:
            result = [type_name]
        self._possible_cache[type_name] = result
        return result

    def possible_types_in(self, type_name: str, graph: str) -> list[str]:
        """Concrete types of an abstract type as one subgraph sees it."""
        owner = self.types.get(type_name)
        if owner is None:
            return []
        if owner.kind == "union":
            return [m for m, gs in owner.union_members.items() if graph in gs]
        if owner.kind == "interface":
            out = []
            for t in self.possible_types(type_name):
                if graph in self.types[t].implements.get(type_name, set()):
                    out.append(t)
            return out
        return [type_name] if graph in owner.graphs else []

    def is_interface_object_in(self, type_name: str, graph: str) -> bool:
        owner = self.types.get(type_name)
        return owner is not None and graph in owner.interface_object_graphs
