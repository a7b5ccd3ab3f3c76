"""Demand control: the static cost of an operation before it runs, and its refusal.

The rules are Apollo's demand control (IBM's cost directive specification):

* an operation costs its base (a mutation 10, a query 0) plus the cost of its root fields;
* a field costs its weight — its `@cost(weight:)`, else its type's `@cost`, else 1 for an object,
  interface or union and 0 for a scalar or enum — plus the cost of its selections; a list field
  multiplies both by its size;
* a list's size comes from its `@listSize`: the value of its `slicingArguments` (from the operation, the
  variables, or the argument's default; the largest when several are given), else `assumedSize`, else
  the configured `list_size`. With `sizedFields` the size applies to those child fields instead (the
  connection pattern). `requireOneSlicingArgument` (default true) demands exactly one slicing value;
* arguments add their `@cost` weights, and 1 per input object (plus its input fields' `@cost`);
* `__typename` is free; `__schema` / `__type` are answered by the gateway itself and cost a flat
  `introspection_cost` each, so that the playground's one introspection passes and 60 aliased
  introspections do not.

Abstract selections cost the most expensive concrete type's branch. Selection sets below the breakdown
depth are memoised per (selection set, type), so a fragment reused many times is walked once.

WIRING (a plugin on the hook after validation and authorization, before planning — the point where the
validated document, the operation and the client's variables are known and nothing was fetched yet):

    estimate = estimate_cost(supergraph, operation, fragments, variables, settings.demand_control)
    if estimate.too_expensive:
        return {"errors": [cost_refusal_error(estimate)]}       # no subgraph is called
    # optionally: response["extensions"] = cost_extensions(estimate, actual=...)

`CostEstimationError` (a slicing argument the `@listSize` demands is missing) becomes a request error
with `cost_estimation_error(err)`. `kyodo plan` can print `describe_estimate(estimate)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLBoolean,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from graphql.utilities.coerce_input_value import coerce_default_value

from gateway.supergraph import Supergraph
from gateway.traffic.cost_model import CostModel, ListSize
from gateway.traffic.selections import fields_on

INTROSPECTION_ROOTS = ("__schema", "__type")
_BOOLEAN = GraphQLNonNull(GraphQLBoolean)  # the type of @skip/@include's `if`


@dataclass(frozen=True)
class DemandControlSettings:
    """`[demand_control]` settings."""
    # read by pydantic when gateway.toml builds this table: unknown keys are refused
    __pydantic_config__ = {"extra": "forbid"}


    enabled: bool = True
    # Refuse above this. Chosen so that every query of the README, docs, playground and test suite
    # passes while every hostile shape of issue 8 is refused (tests/traffic/test_cost_on_kyodo.py).
    max_cost: int = 1000
    list_size: int = 10               # a list field without @listSize is assumed this long
    mutation_base_cost: int = 10
    query_base_cost: int = 0
    introspection_cost: int = 100     # each __schema / __type field, flat
    breakdown_depth: int = 3          # response paths up to this depth are itemised
    expose_in_extensions: bool = False
    # Counting the actual cost walks the whole response (as long as projecting it): done for one response in
    # this many for the metric (0: never), and for every response whose cost is exposed.
    actual_cost_sample_every: int = 100

    def __post_init__(self) -> None:
        for name in ("max_cost", "list_size", "mutation_base_cost", "query_base_cost", "introspection_cost",
                     "actual_cost_sample_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"demand_control.{name} must be a non-negative integer")


@dataclass(frozen=True)
class CostEstimate:
    total: int
    max_cost: int
    # response path ("shelters.occupancy", aliases as the client wrote them) -> the cost it adds to the
    # total (already multiplied by the sizes of the lists above it); up to breakdown_depth levels
    by_path: Mapping[str, int] = field(default_factory=dict)

    @property
    def too_expensive(self) -> bool:
        return self.total > self.max_cost

    def most_expensive(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.by_path.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


class CostEstimationError(Exception):
    """The operation cannot be costed: a `@listSize` slicing-argument rule is broken."""

    def __init__(self, message: str, path: list[str]):
        super().__init__(message)
        self.message = message
        self.path = path


def estimate_cost(supergraph: Supergraph, operation: OperationDefinitionNode,
                  fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any] | None,
                  settings: DemandControlSettings = DemandControlSettings(),
                  model: CostModel | None = None) -> CostEstimate:
    """The static cost of one validated operation (raises CostEstimationError, see the module doc).

    `model` defaults to the supergraph's own `@cost`/`@listSize`; pass another to try annotations out.
    """
    schema = supergraph.schema
    estimator = _Estimator(schema, model or CostModel.of(supergraph), fragments,
                           _coerced_variables(schema, operation, variables or {}), settings)
    if operation.operation == OperationType.MUTATION:
        base, root = settings.mutation_base_cost, schema.mutation_type
    elif operation.operation == OperationType.SUBSCRIPTION:
        base, root = settings.query_base_cost, schema.subscription_type
    else:
        base, root = settings.query_base_cost, schema.query_type
    if root is None:
        return CostEstimate(base, settings.max_cost, {})
    total = base + estimator.selection_set(root, operation.selection_set, (), 0, 1, {})
    return CostEstimate(total, settings.max_cost, dict(estimator.by_path))


def cost_refusal_error(estimate: CostEstimate) -> dict:
    """The GraphQL error for an operation refused before execution (send it with no data)."""
    return {
        "message": (f"The estimated cost of this operation ({estimate.total}) exceeds the maximum allowed "
                    f"cost ({estimate.max_cost}). Ask for fewer items (smaller limits), fewer aliases "
                    f"or less nesting."),
        "extensions": {
            "code": "COST_ESTIMATED_TOO_EXPENSIVE",
            "cost": {
                "estimated": estimate.total,
                "max": estimate.max_cost,
                "mostExpensive": [{"path": p, "cost": c} for p, c in estimate.most_expensive(3)],
            },
        },
    }


def cost_estimation_error(error: CostEstimationError) -> dict:
    return {"message": error.message, "path": error.path, "extensions": {"code": "COST_QUERY_PARSE_FAILURE"}}


def cost_extensions(estimate: CostEstimate, actual: int | None = None) -> dict:
    """`extensions.cost` of a response, when the client or the settings ask for it."""
    cost: dict[str, Any] = {"estimated": estimate.total, "max": estimate.max_cost}
    if actual is not None:
        cost["actual"] = actual
    return {"cost": cost}


def describe_estimate(estimate: CostEstimate) -> str:
    """A few lines for `kyodo plan`."""
    verdict = "refused" if estimate.too_expensive else "allowed"
    lines = [f"estimated cost {estimate.total} (max {estimate.max_cost}): {verdict}"]
    lines += [f"  {path}: {cost}" for path, cost in estimate.most_expensive(10)]
    return "\n".join(lines)


def _coerced_variables(schema: GraphQLSchema, operation: OperationDefinitionNode,
                       variables: Mapping[str, Any]) -> dict[str, Any]:
    if not operation.variable_definitions:
        return dict(variables)
    coerced = get_variable_values(schema, operation.variable_definitions, dict(variables))
    # invalid variables are refused by the document stage; cost what was sent rather than fail here
    if isinstance(coerced, list):
        return dict(variables)
    return dict(getattr(coerced, "coerced", coerced))  # graphql-core 3.3 wraps them in VariableValues


class _Estimator:
    def __init__(self, schema: GraphQLSchema, model: CostModel, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: dict[str, Any], settings: DemandControlSettings):
        self.schema = schema
        self.model = model
        self.fragments = fragments
        self.variables = variables
        self.settings = settings
        self.by_path: dict[str, int] = {}
        self._memo: dict[tuple, int] = {}

    # -- selections ------------------------------------------------------------------------------------
    def selection_set(self, parent: GraphQLNamedType, selection_set: SelectionSetNode, path: tuple[str, ...],
                      depth: int, multiplier: int, sized: dict[str, int]) -> int:
        record = depth < self.settings.breakdown_depth
        key = None
        if not record:
            key = (id(selection_set), parent.name, tuple(sorted(sized.items())))
            if key in self._memo:
                return self._memo[key]
        if is_abstract_type(parent):
            best, best_paths = 0, {}
            saved = self.by_path
            for concrete in self.schema.get_possible_types(parent):
                self.by_path = {}
                cost = self._object_selection(concrete, selection_set, path, depth, multiplier, sized)
                if cost >= best:
                    best, best_paths = cost, self.by_path
            self.by_path = saved
            for p, c in best_paths.items():
                self.by_path[p] = self.by_path.get(p, 0) + c
            total = best
        else:
            total = self._object_selection(parent, selection_set, path, depth, multiplier, sized)
        if key is not None:
            self._memo[key] = total
        return total

    def _object_selection(self, obj: GraphQLObjectType, selection_set: SelectionSetNode, path: tuple[str, ...],
                          depth: int, multiplier: int, sized: dict[str, int]) -> int:
        return sum(self._field(obj, node, path, depth, multiplier, sized)
                   for node in fields_on(self.schema, self.fragments, obj, selection_set, self._included))

    def _included(self, selection) -> bool:
        for directive in selection.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            arg = next((a for a in directive.arguments or () if a.name.value == "if"), None)
            value = value_from_ast(arg.value, _BOOLEAN, self.variables) if arg is not None else Undefined
            if value is Undefined:
                continue  # unknowable: count it
            if (name == "skip" and value) or (name == "include" and not value):
                return False
        return True

    # -- one field ---------------------------------------------------------------------------------------
    def _field(self, parent: GraphQLObjectType, node: FieldNode, path: tuple[str, ...], depth: int,
               multiplier: int, sized: dict[str, int]) -> int:
        name = node.name.value
        response_key = node.alias.value if node.alias else name
        child_path = (*path, response_key)
        if name == "__typename":
            return 0
        if name in INTROSPECTION_ROOTS:
            cost = self.settings.introspection_cost
            self._record(child_path, depth, cost * multiplier)
            return cost
        facts = self.model.field_facts(parent, name)
        if facts is None:
            return 0
        definition, named, weight, is_list, list_size = facts
        child_sized: dict[str, int] = {}
        instances = 1
        if list_size is not None and list_size.sized_fields:
            size = self._size(parent, definition, node, list_size, child_path)
            child_sized = {f: size for f in list_size.sized_fields}
        if is_list:
            if name in sized:
                instances = sized[name]
            elif list_size is not None and not list_size.sized_fields:
                instances = self._size(parent, definition, node, list_size, child_path)
            else:
                instances = self.settings.list_size

        selections = 0
        if node.selection_set is not None and is_composite_type(named):
            selections = self.selection_set(named, node.selection_set, child_path, depth + 1,
                                            multiplier * instances, child_sized)
        cost = instances * (weight + selections) + self._arguments(parent, definition, node)
        self._record(child_path, depth, cost * multiplier)
        return cost

    def _record(self, path: tuple[str, ...], depth: int, cost: int) -> None:
        if depth < self.settings.breakdown_depth and cost:
            key = ".".join(path)
            self.by_path[key] = self.by_path.get(key, 0) + cost

    def _argument_value(self, definition, node: FieldNode, name: str) -> Any:
        arg_def = definition.args.get(name)
        if arg_def is None:
            return Undefined
        for arg in node.arguments or ():
            if arg.name.value == name:
                return value_from_ast(arg.value, arg_def.type, self.variables)
        try:
            return coerce_default_value(arg_def)
        except (GraphQLError, TypeError, ValueError):  # an invalid default: cost as if it were absent
            return Undefined

    def _size(self, parent: GraphQLObjectType, definition, node: FieldNode, list_size: ListSize,
              path: tuple[str, ...]) -> int:
        values: list[int] = []
        for slicing in list_size.slicing_arguments:
            top, *rest = slicing.split(".")
            value = self._argument_value(definition, node, top)
            for key in rest:  # "input.first": a field of an input-object argument
                value = value.get(key, Undefined) if isinstance(value, dict) else Undefined
            if isinstance(value, int) and not isinstance(value, bool):
                values.append(max(value, 0))
        if list_size.slicing_arguments and list_size.require_one_slicing_argument and len(values) != 1:
            names = ", ".join(f'"{a}"' for a in list_size.slicing_arguments)
            raise CostEstimationError(
                f'Exactly one slicing argument ({names}) must be given for "{parent.name}.{node.name.value}" '
                f"(found {len(values)}).", list(path))
        if values:
            return max(values)
        if list_size.assumed_size is not None:
            return max(list_size.assumed_size, 0)
        return self.settings.list_size

    def _arguments(self, parent: GraphQLObjectType, definition, node: FieldNode) -> int:
        total = 0
        for arg in node.arguments or ():
            arg_def = definition.args.get(arg.name.value)
            if arg_def is None:
                continue
            total += self.model.argument_weights.get((parent.name, node.name.value, arg.name.value), 0)
            input_type = get_named_type(arg_def.type)
            if isinstance(input_type, GraphQLInputObjectType):
                total += self._input_value(input_type, value_from_ast(arg.value, arg_def.type, self.variables))
        return total

    def _input_value(self, input_type: GraphQLInputObjectType, value: Any) -> int:
        if isinstance(value, list):
            return sum(self._input_value(input_type, v) for v in value)
        if not isinstance(value, dict):
            return 0
        total = self.model.type_weights.get(input_type.name, 1)
        for name, field_def in input_type.fields.items():
            if name not in value:
                continue
            total += self.model.input_field_weights.get((input_type.name, name), 0)
            inner = get_named_type(field_def.type)
            if isinstance(inner, GraphQLInputObjectType):
                total += self._input_value(inner, value[name])
        return total
