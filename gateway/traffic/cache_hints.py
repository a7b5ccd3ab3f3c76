"""Cache hints: how long the answer to an operation may be reused, from hints per type and field.

A hint is a max-age in seconds and a scope (PUBLIC or PRIVATE), given per type (`"Shelter"`) or per field
(`"Shelter.occupancy"`), from the settings map or from `@cacheControl(maxAge:, scope:)` directives in the
supergraph (settings win). The rules are those of Apollo's cache control, made strict:

* a field's hint is its own, else (for an object, interface or union) its type's; a scalar or enum field
  without a hint inherits its parent's;
* a root field or an object field with no hint at all makes the operation uncacheable (max-age 0), so
  a type nobody declared public — every personal type — is never cached;
* the operation's max-age is the shortest of all its fields' (shortest wins);
* any PRIVATE hint, any field or type under `@authenticated`, `@requiresScopes` or `@policy`, any
  introspection, and any operation that is not a query make it uncacheable.

`cache_policy(...)` is pure and cheap (one walk of the operation); cache its result per document.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    value_from_ast_untyped,
)

from gateway.supergraph import Supergraph
from gateway.supergraph.links import linked_names
from gateway.traffic.selections import fields_on

PUBLIC = "PUBLIC"
PRIVATE = "PRIVATE"
ACCESS_CONTROL_SPECS = ("authenticated", "requiresScopes", "policy")


@dataclass(frozen=True)
class CacheHint:
    # read by pydantic when gateway.toml builds this table: unknown keys are refused
    __pydantic_config__ = {"extra": "forbid"}

    max_age: int
    scope: str = PUBLIC


# kyodo's public data: open data changes daily at most; what shelter staff and sensors report, minutes;
# live check-in counts and river levels, seconds.
KYODO_HINTS: Mapping[str, CacheHint] = {
    "Shelter": CacheHint(300),
    "Shelter.isOpen": CacheHint(15), "Shelter.openedAt": CacheHint(15), "Shelter.closedAt": CacheHint(15),
    "Shelter.evacuees": CacheHint(15), "Shelter.households": CacheHint(15), "Shelter.specialCare": CacheHint(15),
    "Shelter.vacancy": CacheHint(15), "Shelter.remainingPlaces": CacheHint(15),
    "Shelter.occupancy": CacheHint(5), "ShelterOccupancy": CacheHint(5),
    "Hazards": CacheHint(3600),
    "EvacuationSpace": CacheHint(3600), "Aed": CacheHint(3600), "ChildcareFacility": CacheHint(3600),
    "Municipality": CacheHint(3600),
    "RiverGauge": CacheHint(300), "RiverThresholds": CacheHint(300),
    "RiverGauge.latest": CacheHint(10), "RiverGauge.alertLevel": CacheHint(10), "RiverObservation": CacheHint(10),
    "FloodSensor": CacheHint(10),
    "Merchant": CacheHint(600), "EarningRule": CacheHint(600), "VaccineInfo": CacheHint(3600),
    "Election": CacheHint(600),
}


@dataclass(frozen=True)
class CacheHintSettings:
    hints: Mapping[str, CacheHint] = field(default_factory=lambda: dict(KYODO_HINTS))
    directive: str = "cacheControl"   # read from the supergraph too, when composed in


@dataclass(frozen=True)
class CachePolicy:
    max_age: int
    reason: str | None = None   # why not cacheable, for logs and tests

    @property
    def cacheable(self) -> bool:
        return self.max_age > 0


def cache_policy(supergraph: Supergraph, operation: OperationDefinitionNode,
                 fragments: Mapping[str, FragmentDefinitionNode],
                 settings: CacheHintSettings = CacheHintSettings()) -> CachePolicy:
    """How long the answer to this validated, authorized operation may be shared (0: not at all)."""
    if operation.operation != OperationType.QUERY:
        return CachePolicy(0, "not a query")
    schema = supergraph.schema
    rules = _Rules.of(supergraph, settings)
    walker = _Walker(schema, rules, fragments)
    max_age = walker.selection_set(schema.query_type, operation.selection_set, None)
    if walker.reason:
        return CachePolicy(0, walker.reason)
    return CachePolicy(max_age if max_age is not None else 0, None if max_age else "no hint")


@dataclass
class _Rules:
    hints: dict[str, CacheHint]
    restricted: set[str]   # "Type" or "Type.field" under an access-control directive

    @classmethod
    def of(cls, supergraph: Supergraph, settings: CacheHintSettings) -> _Rules:
        key = (id(supergraph), id(settings))
        cached = _RULES.get(key)
        if cached is not None and cached[0]() is supergraph and cached[1]() is settings:
            return cached[2]
        rules = cls.from_schema(supergraph.schema, settings)
        # keyed by identity (neither is hashable); the weak references drop the entry with either object
        drop = lambda _ref: _RULES.pop(key, None)  # noqa: E731
        _RULES[key] = (weakref.ref(supergraph, drop), weakref.ref(settings, drop), rules)
        return rules

    @classmethod
    def from_schema(cls, schema: GraphQLSchema, settings: CacheHintSettings) -> _Rules:
        nodes = [n for n in (schema.ast_node, *(schema.extension_ast_nodes or ())) if n is not None]
        names = linked_names((d for n in nodes for d in n.directives or ()), ACCESS_CONTROL_SPECS)
        guarded = set(names.values())
        hints: dict[str, CacheHint] = {}
        restricted: set[str] = set()

        def read(coordinate: str, directives) -> None:
            for directive in directives or ():
                if directive.name.value in guarded:
                    restricted.add(coordinate)
                elif directive.name.value == settings.directive:
                    args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
                    hints[coordinate] = CacheHint(int(args.get("maxAge") or 0), str(args.get("scope") or PUBLIC))

        for type_name, named in schema.type_map.items():
            if type_name.startswith("__"):
                continue
            for node in [getattr(named, "ast_node", None), *(getattr(named, "extension_ast_nodes", None) or ())]:
                if node is not None:
                    read(type_name, node.directives)
            fields = getattr(named, "fields", None)
            if isinstance(fields, dict) and not hasattr(named, "is_one_of"):
                for field_name, definition in fields.items():
                    if definition.ast_node is not None:
                        read(f"{type_name}.{field_name}", definition.ast_node.directives)
        hints.update(settings.hints)
        return cls(hints, restricted)


_RULES: dict[tuple[int, int], tuple[weakref.ref, weakref.ref, _Rules]] = {}


class _Walker:
    def __init__(self, schema: GraphQLSchema, rules: _Rules, fragments: Mapping[str, FragmentDefinitionNode]):
        self.schema = schema
        self.rules = rules
        self.fragments = fragments
        self.reason: str | None = None

    def _hint(self, coordinate: str) -> int | None:
        if coordinate in self.rules.restricted:
            self.reason = f"{coordinate} is access-controlled"
            return 0
        hint = self.rules.hints.get(coordinate)
        if hint is None:
            return None
        if hint.scope != PUBLIC:
            self.reason = f"{coordinate} is {hint.scope.lower()}"
            return 0
        return hint.max_age

    def selection_set(self, parent: GraphQLNamedType, selection_set: SelectionSetNode,
                      inherited: int | None) -> int | None:
        types = self.schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
        shortest: int | None = None
        for obj in types:
            for node in fields_on(self.schema, self.fragments, obj, selection_set):
                age = self._field(obj, node, inherited)
                if self.reason:
                    return 0
                if age is not None:
                    shortest = age if shortest is None else min(shortest, age)
        return shortest

    def _field(self, parent: GraphQLObjectType, node: FieldNode, inherited: int | None) -> int | None:
        name = node.name.value
        if name == "__typename":
            return inherited  # no constraint of its own
        if name.startswith("__"):
            self.reason = "introspection"
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            self.reason = f"unknown field {parent.name}.{name}"
            return 0
        named = get_named_type(definition.type)
        # the parent type's own restriction applies to every field of it
        for coordinate in (parent.name, named.name):
            if coordinate in self.rules.restricted:
                self.reason = f"{coordinate} is access-controlled"
                return 0
        age = self._hint(f"{parent.name}.{name}")
        if age is None and is_composite_type(named):
            age = self._hint(named.name)
            if age is None:
                self.reason = f"{parent.name}.{name} has no cache hint"
                return 0
        if age is None:
            age = inherited
        if age is None:
            self.reason = f"{parent.name}.{name} has no cache hint"
            return 0
        if node.selection_set is not None and is_composite_type(named):
            inner = self.selection_set(named, node.selection_set, age)
            if inner is not None:
                age = min(age, inner)
        return age


def cache_control_header(policy: CachePolicy | None, remaining: int | None = None) -> str:
    """`public, max-age=N` for a cacheable answer (N: what is left of its TTL on a hit), else `no-store`."""
    if policy is None or not policy.cacheable:
        return "no-store"
    age = policy.max_age if remaining is None else max(0, min(remaining, policy.max_age))
    return f"public, max-age={age}" if age > 0 else "no-store"
