"""The prepared operation: everything later stages read about the operation a request runs.

Built in two steps, so that nothing is derived twice:

- `AnalyzedOperation`, once per validated document and operation (cached with the document): the
  selected operation, its name and type, the fragments, the normalized selection (fragments
  inlined, literal @skip/@include applied), the root fields, the introspection flags and the
  variables @skip/@include read. It does not depend on a request's variables, so it is what the
  planner plans (a plan never depends on variable values).
- `PreparedOperation`, once per request: the analysis plus the request's variables, coerced with
  their types from the variable definitions (`variables`), and the client's JSON values with the
  definitions' defaults filled in (`raw_variables`, what subgraphs are sent: they coerce again
  with their own types).

Authorization, planning, execution and introspection read these; none selects the operation,
builds a fragment map or coerces variables again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from graphql import GraphQLSchema, value_from_ast_untyped
from graphql.execution.values import get_variable_values
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
)

from gateway.document.conditions import CONDITION_DIRECTIVES
from gateway.document.errors import GraphQLRequestError, from_graphql_error
from gateway.document.normalization import merge_fields, normalize_selection

INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, eq=False)  # identity equality: stages key their caches by the object
class AnalyzedOperation:
    text: str
    document: DocumentNode
    operation: OperationDefinitionNode
    name: str | None
    type: OperationType
    fragments: Mapping[str, FragmentDefinitionNode]
    variable_definitions: tuple[VariableDefinitionNode, ...]
    selection: SelectionSetNode                     # normalized (see gateway.document.normalization)
    root_fields: tuple[FieldNode, ...]              # normalized, root fragments flattened, in order
    has_introspection: bool                         # selects __schema or __type at the root
    only_introspection: bool                        # selects nothing a subgraph answers
    condition_variables: tuple[str, ...]            # variables read by @skip/@include, sorted


@dataclass(frozen=True, eq=False)
class PreparedOperation:
    analysis: AnalyzedOperation
    variables: Mapping[str, Any]        # coerced with their types (defaults applied)
    raw_variables: Mapping[str, Any]    # the client's JSON values, defaults filled in (for subgraphs)

    # the analysis, read through (so stages take one object)
    @property
    def text(self) -> str:
        return self.analysis.text

    @property
    def document(self) -> DocumentNode:
        return self.analysis.document

    @property
    def operation(self) -> OperationDefinitionNode:
        return self.analysis.operation

    @property
    def name(self) -> str | None:
        return self.analysis.name

    @property
    def type(self) -> OperationType:
        return self.analysis.type

    @property
    def fragments(self) -> Mapping[str, FragmentDefinitionNode]:
        return self.analysis.fragments

    @property
    def selection(self) -> SelectionSetNode:
        return self.analysis.selection

    @property
    def root_fields(self) -> tuple[FieldNode, ...]:
        return self.analysis.root_fields

    @property
    def has_introspection(self) -> bool:
        return self.analysis.has_introspection

    @property
    def only_introspection(self) -> bool:
        return self.analysis.only_introspection

    def with_analysis(self, analysis: AnalyzedOperation) -> PreparedOperation:
        """The same request on another analysis of its operation (e.g. pruned by authorization)."""
        return PreparedOperation(analysis, self.variables, self.raw_variables)


def fragment_map(document: DocumentNode) -> Mapping[str, FragmentDefinitionNode]:
    return MappingProxyType(
        {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    )


def operations_of(document: DocumentNode) -> dict[str | None, OperationDefinitionNode]:
    """Operation name (None for an anonymous one) -> its definition."""
    return {
        (d.name.value if d.name else None): d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    }


def select_definition(
    operations: Mapping[str | None, OperationDefinitionNode], operation_name: str | None
) -> OperationDefinitionNode:
    """The operation a request names, or GraphQLRequestError (400) saying why there is none."""
    if operation_name is None:
        if len(operations) == 1:
            return next(iter(operations.values()))
        raise GraphQLRequestError.single(
            "Must provide operation name if query contains multiple operations."
            if operations else "The document contains no operation.",
            "GRAPHQL_VALIDATION_FAILED",
        )
    operation = operations.get(operation_name)
    if operation is None:
        raise GraphQLRequestError.single(f'Unknown operation named "{operation_name}".', "GRAPHQL_VALIDATION_FAILED")
    return operation


def analyze_operation(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    text: str = "",
    fragments: Mapping[str, FragmentDefinitionNode] | None = None,
) -> AnalyzedOperation:
    """Analyze one operation of a validated document (the document cache does this once per operation)."""
    fragments = fragment_map(document) if fragments is None else fragments
    selection = normalize_selection(operation.selection_set, fragments)
    root_fields = root_fields_of(selection)
    root_names = {f.name.value for f in root_fields}
    return AnalyzedOperation(
        text=text,
        document=document,
        operation=operation,
        name=operation.name.value if operation.name else None,
        type=operation.operation,
        fragments=fragments,
        variable_definitions=tuple(operation.variable_definitions or ()),
        selection=selection,
        root_fields=root_fields,
        has_introspection=bool(root_names & INTROSPECTION_ROOTS),
        only_introspection=root_names <= INTROSPECTION_ROOTS | {"__typename"},
        condition_variables=condition_variables(selection),
    )


def analyze_document(document: DocumentNode, operation_name: str | None, text: str = "") -> AnalyzedOperation:
    """For tools and tests holding a bare validated document (GraphQLRequestError if no such operation)."""
    return analyze_operation(document, select_definition(operations_of(document), operation_name), text)


def prepare_operation(
    schema: GraphQLSchema, analysis: AnalyzedOperation, variables: Mapping[str, Any] | None
) -> PreparedOperation:
    """Coerce the request's variables with the operation's definitions; a 400 when they do not fit."""
    raw = dict(variables or {})
    definitions = analysis.variable_definitions
    if not definitions:
        return PreparedOperation(analysis, _EMPTY, raw)
    result = get_variable_values(schema, definitions, raw, max_errors=20)
    if isinstance(result, list):
        raise GraphQLRequestError([from_graphql_error(e, "BAD_USER_INPUT") for e in result])
    for definition in definitions:
        name = definition.variable.name.value
        if name not in raw and definition.default_value is not None:
            raw[name] = value_from_ast_untyped(definition.default_value)
    return PreparedOperation(analysis, MappingProxyType(result.coerced), raw)


def root_fields_of(selection: SelectionSetNode) -> tuple[FieldNode, ...]:
    """Root fields in order; inline fragments at the root are flattened, their directives moved onto their
    fields, and fields that then share a response key (and directives) merged, so each runs once."""
    out: list[FieldNode] = []

    def walk(selection_set: SelectionSetNode, inherited: tuple[Any, ...]) -> None:
        for s in selection_set.selections:
            if isinstance(s, FieldNode):
                if inherited:
                    s = FieldNode(alias=s.alias, name=s.name, arguments=s.arguments,
                                  directives=tuple(s.directives or ()) + inherited, selection_set=s.selection_set)
                out.append(s)
            elif isinstance(s, InlineFragmentNode):
                walk(s.selection_set, inherited + tuple(s.directives or ()))

    walk(selection, ())
    merged = merge_fields(out)
    if merged is None:
        return tuple(out)
    return tuple(f for f in merged if isinstance(f, FieldNode))


def condition_variables(selection: SelectionSetNode) -> tuple[str, ...]:
    """Names of the variables @skip/@include read in a normalized selection (shared subtrees once)."""
    names: set[str] = set()
    seen: set[int] = set()

    def walk(selection_set: SelectionSetNode) -> None:
        if id(selection_set) in seen:
            return
        seen.add(id(selection_set))
        for s in selection_set.selections:
            for directive in s.directives or ():
                if directive.name.value in CONDITION_DIRECTIVES:
                    for argument in directive.arguments or ():
                        if isinstance(argument.value, VariableNode):
                            names.add(argument.value.name.value)
            inner = getattr(s, "selection_set", None)
            if inner is not None:
                walk(inner)

    walk(selection)
    return tuple(sorted(names))
