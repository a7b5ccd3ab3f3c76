"""`build_plan`: from a prepared (analyzed) operation to a QueryPlan.

Phases, each failing with its own PlanningError subclass (gateway.planner.errors): the operation
(a root type for its kind), the search (which subgraph resolves each field: `UnplannableError`,
reported in the plan), refinement (named passes to a fixed point) and assembly into the tree. The
whole run has a deadline (`PlanningTimeout`). A query with @defer becomes a `Defer` node: the primary
part and each deferred fragment planned apart (gateway/planner/defer_plan.py).
"""

from __future__ import annotations

from graphql import FieldNode, print_ast

from gateway.document import AnalyzedOperation, defer_split
from gateway.planner.assemble import assemble
from gateway.planner.builder import PlanBuilder
from gateway.planner.defer_plan import plan_deferred
from gateway.planner.errors import DEFAULT_PLANNING_SECONDS, Deadline, NoRootTypeError, UnplannableError
from gateway.planner.nodes import Fetch, PlanNode, QueryPlan, Sequence, SubscriptionNode
from gateway.supergraph.model import Supergraph


def build_plan(supergraph: Supergraph, operation: AnalyzedOperation, *,
               deadline_seconds: float = DEFAULT_PLANNING_SECONDS) -> QueryPlan:
    """The plan for the operation (it reads no variable values, so one plan serves every request)."""
    deadline = Deadline(deadline_seconds)
    kind = operation.type.value
    root_type = supergraph.schema.get_root_type(operation.type)
    if root_type is None:
        raise NoRootTypeError(f"The schema has no {kind} type.")
    variable_definitions = {vd.variable.name.value: print_ast(vd) for vd in operation.variable_definitions}
    try:
        split = defer_split(supergraph.api_schema, operation)
        if split:
            def plan_root(fields: list[FieldNode]) -> PlanNode | None:
                return _plan(supergraph, kind, root_type.name, fields, variable_definitions, deadline).node

            node = plan_deferred(supergraph, root_type.name, operation.selection, split, variable_definitions,
                                 deadline, plan_root)
            return QueryPlan(node=node, operation_kind=kind)
        return _plan(supergraph, kind, root_type.name, list(operation.root_fields), variable_definitions, deadline)
    except UnplannableError as error:
        return QueryPlan(node=None, operation_kind=kind, errors=(str(error),))


def _plan(supergraph: Supergraph, kind: str, root_type_name: str, root_fields: list[FieldNode],
          variable_definitions: dict[str, str], deadline: Deadline) -> QueryPlan:
    if kind == "mutation":
        # Mutation root fields run one after another, each with the fetches that complete it.
        steps: list[PlanNode] = []
        for field in root_fields:
            builder = PlanBuilder(supergraph, deadline)
            builder.plan_root_fields(root_type_name, [field])
            node = assemble(builder.index.groups, kind, variable_definitions, deadline)
            if node is not None:
                steps.append(node)
        if not steps:
            return QueryPlan(node=None, operation_kind=kind)
        return QueryPlan(node=steps[0] if len(steps) == 1 else Sequence(nodes=tuple(steps)), operation_kind=kind)
    if kind == "subscription":
        builder = PlanBuilder(supergraph, deadline)
        builder.plan_root_fields(root_type_name, root_fields)
        tree = assemble(builder.index.groups, kind, variable_definitions, deadline)
        return QueryPlan(node=_split_subscription(tree), operation_kind=kind)
    # One search for all root fields: fetches needed only under @skip/@include carry their conditions
    # and become Condition nodes in the tree.
    builder = PlanBuilder(supergraph, deadline)
    builder.plan_root_fields(root_type_name, root_fields)
    return QueryPlan(node=assemble(builder.index.groups, kind, variable_definitions, deadline), operation_kind=kind)


def _split_subscription(tree: PlanNode | None) -> SubscriptionNode | None:
    """The subscription's tree as primary fetch + the rest. A subscription selects one root field
    (validation), so exactly one fetch is a root fetch and every other fetch waits for it: the tree is
    that fetch, or a Sequence starting with it."""
    if tree is None:
        return None
    if isinstance(tree, Fetch) and tree.entity_type is None:
        return SubscriptionNode(tree)
    if isinstance(tree, Sequence) and tree.nodes:
        first, rest = tree.nodes[0], tree.nodes[1:]
        if isinstance(first, Fetch) and first.entity_type is None:
            after: PlanNode | None = rest[0] if len(rest) == 1 else (Sequence(nodes=rest) if rest else None)
            return SubscriptionNode(first, after)
    # e.g. a root field under @include(if: $v): its fetch sits inside a Condition node
    raise UnplannableError("A subscription's root field must be planned as one fetch that opens it, "
                           "without @skip/@include on the root field.")
