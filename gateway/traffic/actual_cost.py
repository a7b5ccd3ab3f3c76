"""Actual cost: the same weights as the estimate, counted over what the response holds.

Each object that came back costs its weight (`@cost` of its field or type, else 1), each list its real
length, a null nothing; a mutation adds its base. Exported as a metric next to the estimate, it shows
how far the `@listSize` assumptions are from real traffic.

WIRING (a plugin on the hook after execution, with the merged response):

    actual = actual_cost(supergraph, operation, fragments, response.get("data"), variables,
                         settings.demand_control)
    metrics.cost_actual.observe(actual); metrics.cost_estimated.observe(estimate.total)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
    is_composite_type,
)

from gateway.supergraph import Supergraph
from gateway.traffic.cost import INTROSPECTION_ROOTS, DemandControlSettings
from gateway.traffic.cost_model import CostModel
from gateway.traffic.selections import fields_on


def actual_cost(supergraph: Supergraph, operation: OperationDefinitionNode,
                fragments: Mapping[str, FragmentDefinitionNode], data: Mapping[str, Any] | None,
                settings: DemandControlSettings = DemandControlSettings()) -> int:
    schema = supergraph.schema
    if operation.operation == OperationType.MUTATION:
        base, root = settings.mutation_base_cost, schema.mutation_type
    else:
        base, root = settings.query_base_cost, schema.query_type
    if root is None or not isinstance(data, Mapping):
        return base
    counter = _Counter(schema, CostModel.of(supergraph), fragments, settings)
    return base + counter.object(root, operation.selection_set, data)


class _Counter:
    def __init__(self, schema: GraphQLSchema, model: CostModel, fragments: Mapping[str, FragmentDefinitionNode],
                 settings: DemandControlSettings):
        self.schema = schema
        self.model = model
        self.fragments = fragments
        self.settings = settings

    def object(self, obj: GraphQLObjectType, selection_set: SelectionSetNode, value: Mapping[str, Any]) -> int:
        total = 0
        for node in fields_on(self.schema, self.fragments, obj, selection_set):
            key = node.alias.value if node.alias else node.name.value
            if key not in value:
                continue  # skipped, or another concrete type's field
            total += self.field(obj, node, value[key])
        return total

    def field(self, parent: GraphQLObjectType, node: FieldNode, value: Any) -> int:
        name = node.name.value
        if name == "__typename" or value is None:
            return 0
        if name in INTROSPECTION_ROOTS:
            return self.settings.introspection_cost
        facts = self.model.field_facts(parent, name)
        if facts is None:
            return 0
        _definition, named, weight, _is_list, _list_size = facts
        return self._value(named, node, weight, value)

    def _value(self, named, node: FieldNode, weight: int, value: Any) -> int:
        if value is None:
            return 0
        if isinstance(value, list):
            return sum(self._value(named, node, weight, item) for item in value)
        if not is_composite_type(named) or node.selection_set is None or not isinstance(value, Mapping):
            return weight
        concrete = named
        if is_abstract_type(named):
            typename = value.get("__typename")
            concrete = self.schema.get_type(typename) if isinstance(typename, str) else None
            if not isinstance(concrete, GraphQLObjectType):
                # no __typename asked: count the fields of every member whose keys came back, once each
                return weight + max((self.object(t, node.selection_set, value)
                                     for t in self.schema.get_possible_types(named)), default=0)
        return weight + self.object(concrete, node.selection_set, value)
