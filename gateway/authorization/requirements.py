"""What each type and field of a supergraph requires, read once per schema.

A `Requirement` is a conjunction: authentication, plus a list of scope conditions and a list of
policy conditions. Each condition is Apollo's `[[...]]` form: satisfied when ALL names of ANY
inner list are held (an OR of ANDs). Requirements combine by concatenation (AND).

Apollo's rules, as applied here:
* a field's requirement = its own directives AND those of the type it returns (unwrapped);
* a field read through an interface also needs what each implementation's field needs (and
  what each implementing object type needs), since any of them could answer it;
* a requirement on a root operation type applies to every root field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    value_from_ast_untyped,
)

from gateway.authorization.directive_names import DirectiveNames, read_directive_names

Condition = tuple[frozenset[str], ...]  # OR of ANDs


@dataclass(frozen=True)
class Requirement:
    authenticated: bool = False
    scopes: tuple[Condition, ...] = ()
    policies: tuple[Condition, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.authenticated or self.scopes or self.policies)

    def __and__(self, other: Requirement) -> Requirement:
        if other.empty:
            return self
        if self.empty:
            return other
        return Requirement(
            self.authenticated or other.authenticated,
            _dedupe(self.scopes + other.scopes),
            _dedupe(self.policies + other.policies),
        )

    def policy_names(self) -> set[str]:
        return {name for condition in self.policies for group in condition for name in group}


NONE = Requirement()


def _dedupe(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    return tuple(dict.fromkeys(conditions))


def _condition(value: object) -> Condition | None:
    if not isinstance(value, list):
        return None
    groups = []
    for group in value:
        if isinstance(group, str):  # tolerate a flat list: ["a", "b"] means [["a"], ["b"]]
            groups.append(frozenset({group}))
        elif isinstance(group, list):
            groups.append(frozenset(str(v) for v in group))
    return tuple(groups)


def _directives(node: Any) -> Iterable[Any]:
    if node is None:
        return ()
    return node.directives or ()


def _read(nodes: Iterable[Any], names: DirectiveNames) -> Requirement:
    authenticated = False
    scopes: list[Condition] = []
    policies: list[Condition] = []
    for node in nodes:
        for directive in _directives(node):
            name = directive.name.value
            if name == names.authenticated:
                authenticated = True
            elif name in (names.requires_scopes, names.policy):
                args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
                condition = _condition(args.get("scopes" if name == names.requires_scopes else "policies"))
                if condition is not None:
                    (scopes if name == names.requires_scopes else policies).append(condition)
    return Requirement(authenticated, _dedupe(tuple(scopes)), _dedupe(tuple(policies)))


def _type_nodes(named: GraphQLNamedType) -> list[Any]:
    return [getattr(named, "ast_node", None), *(getattr(named, "extension_ast_nodes", None) or ())]


@dataclass
class SchemaRequirements:
    schema: GraphQLSchema
    names: DirectiveNames
    types: dict[str, Requirement] = field(default_factory=dict)
    own_fields: dict[tuple[str, str], Requirement] = field(default_factory=dict)
    _fields: dict[tuple[str, str], Requirement] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.types or self.own_fields)

    def type_requirement(self, type_name: str) -> Requirement:
        return self.types.get(type_name, NONE)

    def field_requirement(self, parent: GraphQLNamedType, field_name: str) -> Requirement:
        """Everything needed to read `parent.field_name` (memoised)."""
        key = (parent.name, field_name)
        cached = self._fields.get(key)
        if cached is None:
            cached = self._compute(parent, field_name)
            self._fields[key] = cached
        return cached

    def _single(self, parent: GraphQLNamedType, field_name: str) -> Requirement:
        fields = getattr(parent, "fields", None) or {}
        definition: GraphQLField | None = fields.get(field_name)
        if definition is None:
            return NONE
        return self.own_fields.get((parent.name, field_name), NONE) & self.type_requirement(
            get_named_type(definition.type).name
        )

    def _compute(self, parent: GraphQLNamedType, field_name: str) -> Requirement:
        requirement = self._single(parent, field_name)
        if isinstance(parent, GraphQLInterfaceType):
            for implementation in self.schema.get_possible_types(parent):
                requirement = requirement & self._single(implementation, field_name)
                requirement = requirement & self.type_requirement(implementation.name)
        root_types = (self.schema.query_type, self.schema.mutation_type, self.schema.subscription_type)
        if any(root is not None and root.name == parent.name for root in root_types):
            requirement = requirement & self.type_requirement(parent.name)
        return requirement


def read_requirements(schema: GraphQLSchema) -> SchemaRequirements:
    names = read_directive_names(schema)
    result = SchemaRequirements(schema=schema, names=names)
    for type_name, named in schema.type_map.items():
        if type_name.startswith("__"):
            continue
        type_requirement = _read(_type_nodes(named), names)
        if not type_requirement.empty:
            result.types[type_name] = type_requirement
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, definition in named.fields.items():
                field_requirement = _read([definition.ast_node], names)
                if not field_requirement.empty:
                    result.own_fields[(type_name, field_name)] = field_requirement
    return result
