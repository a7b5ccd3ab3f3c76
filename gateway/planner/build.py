"""`build_plan`: from a validated operation to a QueryPlan."""

from __future__ import annotations

from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, print_ast

from gateway.planner.assemble import assemble
from gateway.planner.builder import PlanBuilder, UnplannableError, collect_root_fields
from gateway.planner.nodes import QueryPlan, Sequence
from gateway.supergraph.model import Supergraph


class PlanningError(ValueError):
    """The document has no operation to plan (unknown or ambiguous operation name)."""


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        for op in operations:
            if op.name is not None and op.name.value == operation_name:
                return op
        raise PlanningError(f"Unknown operation named '{operation_name}'.")
    if len(operations) != 1:
        raise PlanningError("Must provide operation name if query contains multiple operations."
                            if operations else "The document contains no operation.")
    return operations[0]


def build_plan(supergraph: Supergraph, document: DocumentNode, operation_name: str | None) -> QueryPlan:
    operation = select_operation(document, operation_name)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    kind = operation.operation.value
    root_type = supergraph.schema.get_root_type(operation.operation)
    if root_type is None:
        raise PlanningError(f"The schema has no {kind} type.")
    variable_definitions = {vd.variable.name.value: print_ast(vd) for vd in operation.variable_definitions or ()}
    root_fields = collect_root_fields(operation, fragments)
    try:
        return _plan(supergraph, fragments, kind, root_type.name, root_fields, variable_definitions)
    except UnplannableError as error:
        return QueryPlan(node=None, operation_kind=kind, errors=[str(error)])


def _plan(supergraph, fragments, kind, root_type_name, root_fields, variable_definitions) -> QueryPlan:
    if kind == "mutation":
        # Mutation root fields run one after another, each with the fetches that complete it.
        steps = []
        for field in root_fields:
            builder = PlanBuilder(supergraph, fragments)
            builder.plan_root_fields(root_type_name, [field])
            node = assemble(builder.index.groups, kind, variable_definitions)
            if node is not None:
                steps.append(node)
        if not steps:
            return QueryPlan(node=None, operation_kind=kind)
        return QueryPlan(node=steps[0] if len(steps) == 1 else Sequence(nodes=steps), operation_kind=kind)
    # One search for all root fields: fetches needed only under @skip/@include carry their conditions
    # and become Condition nodes in the tree.
    builder = PlanBuilder(supergraph, fragments)
    builder.plan_root_fields(root_type_name, root_fields)
    return QueryPlan(node=assemble(builder.index.groups, kind, variable_definitions), operation_kind=kind)
