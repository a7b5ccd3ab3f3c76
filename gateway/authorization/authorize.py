"""`authorize`: prune an operation to what the principal may read, with Apollo's semantics.

Runs after validation and before planning, so no subgraph is ever asked for a removed field;
each removal is reported as a GraphQL error (code UNAUTHORIZED_FIELD_OR_TYPE) at its path and
the field comes back null in the response.

`@policy` names are decided by `policy_hook(principal, policy_name) -> bool` (memoised per
request); without a hook no policy is granted, so a policy-guarded field is never served by
accident.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
)
from graphql.language import get_location

from auth.principal import Principal
from gateway.authorization.pruning import Path, Position, Pruner, RemovedPath, prune_operation
from gateway.authorization.requirements import Requirement, SchemaRequirements, read_requirements
from gateway.document import AnalyzedOperation, GraphQLRequestError, PreparedOperation, analyze_document
from gateway.supergraph import Supergraph

UNAUTHORIZED_CODE = "UNAUTHORIZED_FIELD_OR_TYPE"
UNAUTHORIZED_MESSAGE = "Unauthorized field or type"

PolicyHook = Callable[[Principal | None, str], bool]

_requirements: "weakref.WeakKeyDictionary[GraphQLSchema, SchemaRequirements]" = weakref.WeakKeyDictionary()
# Per validated document (the document cache hands out the same object for the same text): the
# outcome for each (schema, operation, signed in?, scopes). Only outcomes that consulted no @policy
# are kept, since a policy hook may decide on anything about the principal.
# Keyed by identity: graphql-core AST nodes hash structurally (a walk of the whole tree).
_outcomes: dict[int, tuple[weakref.ref[DocumentNode], dict[OutcomeKey, AuthorizationResult]]] = {}
OUTCOMES_PER_DOCUMENT = 32
# (schema id, operation name, anonymous?, scopes)
OutcomeKey = tuple[int, "str | None", bool, frozenset[str]]


@dataclass
class AuthorizationResult:
    document: DocumentNode | None            # None: no root field is left to plan
    # the pruned operation, analyzed once (None: nothing was removed, or nothing is left)
    operation: AnalyzedOperation | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    # where the response needs a null in place of a removed field (`null_removed_fields`)
    removed_paths: tuple[RemovedPath, ...] = ()
    # What distinguishes this pruning from another one of the same document (plan cache key);
    # None when nothing was removed.
    signature: tuple[Any, ...] | None = None


def requirements_for(schema: GraphQLSchema) -> SchemaRequirements:
    cached = _requirements.get(schema)
    if cached is None:
        cached = read_requirements(schema)
        _requirements[schema] = cached
    return cached


def _schema_of(supergraph: Supergraph | GraphQLSchema) -> GraphQLSchema:
    return supergraph if isinstance(supergraph, GraphQLSchema) else supergraph.schema


def _analysis_of(
    operation: PreparedOperation | AnalyzedOperation | DocumentNode, operation_name: str | None
) -> AnalyzedOperation | None:
    if isinstance(operation, PreparedOperation):
        return operation.analysis
    if isinstance(operation, AnalyzedOperation):
        return operation
    try:  # a bare document (tools and tests): analyzed here, the one way the pipeline does it
        return analyze_document(operation, operation_name)
    except GraphQLRequestError:
        return None  # validation reports an unknown operation, not us


class _Decider:
    def __init__(self, principal: Principal | None, policy_hook: PolicyHook | None) -> None:
        self.principal = principal
        self.scopes = principal.scopes if principal is not None else frozenset()
        self.policy_hook = policy_hook
        self._policies: dict[str, bool] = {}

    @property
    def consulted_policies(self) -> bool:
        return bool(self._policies)

    def _policy(self, name: str) -> bool:
        if name not in self._policies:
            granted = False
            if self.policy_hook is not None:
                try:
                    granted = bool(self.policy_hook(self.principal, name))
                except Exception:  # noqa: BLE001 - a failing policy denies; it must not fail the request
                    granted = False
            self._policies[name] = granted
        return self._policies[name]

    def allowed(self, requirement: Requirement) -> bool:
        if requirement.empty:
            return True
        if requirement.authenticated and self.principal is None:
            return False
        for condition in requirement.scopes:
            if not any(group <= self.scopes for group in condition):
                return False
        for condition in requirement.policies:
            if not any(all(self._policy(name) for name in group) for group in condition):
                return False
        return True


def _error(path: Path, node: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": UNAUTHORIZED_MESSAGE, "path": list(path)}
    loc = getattr(node, "loc", None)
    if loc is not None and loc.source is not None:
        location = get_location(loc.source, loc.start)
        error["locations"] = [{"line": location.line, "column": location.column}]
    error["extensions"] = {"code": UNAUTHORIZED_CODE}
    return error


def authorize(
    supergraph: Supergraph | GraphQLSchema,
    operation: PreparedOperation | AnalyzedOperation | DocumentNode,
    operation_name: str | None = None,
    principal: Principal | None = None,
    policy_hook: PolicyHook | None = None,
) -> AuthorizationResult:
    """Prune the prepared operation (or, for tools, a bare validated document and operation name).

    `operation_name` is read only for a bare document; a prepared operation knows its own.
    """
    schema = _schema_of(supergraph)
    requirements = requirements_for(schema)
    analysis = _analysis_of(operation, operation_name)
    if analysis is None:
        return AuthorizationResult(operation if isinstance(operation, DocumentNode) else None)
    document = analysis.document
    if not requirements.any:
        return AuthorizationResult(document)
    operation_name = analysis.name
    definition = analysis.operation
    root = schema.get_root_type(definition.operation) if hasattr(schema, "get_root_type") else None
    if root is None:
        root = {
            OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type,
        }[definition.operation]
    if root is None:
        return AuthorizationResult(document)
    cache_key = (id(schema), operation_name, principal is None, principal.scopes if principal else frozenset())
    per_document = _outcomes_of(document)
    if per_document is not None and cache_key in per_document:
        return _copy(per_document[cache_key])
    result = _authorize(schema, requirements, analysis, root, principal, policy_hook)
    if not result[1]:
        if per_document is None:
            per_document = _remember(document)
        if len(per_document) >= OUTCOMES_PER_DOCUMENT:
            per_document.pop(next(iter(per_document)))
        per_document[cache_key] = result[0]
        return _copy(result[0])
    return result[0]


def _outcomes_of(document: DocumentNode) -> dict[OutcomeKey, AuthorizationResult] | None:
    entry = _outcomes.get(id(document))
    if entry is None or entry[0]() is not document:
        return None
    return entry[1]


def _remember(document: DocumentNode) -> dict[OutcomeKey, AuthorizationResult]:
    key = id(document)
    outcomes: dict[OutcomeKey, AuthorizationResult] = {}

    def forget(ref: weakref.ref[DocumentNode]) -> None:
        _forget(key, ref)

    _outcomes[key] = (weakref.ref(document, forget), outcomes)
    return outcomes


def _forget(key: int, ref: weakref.ref[DocumentNode]) -> None:
    entry = _outcomes.get(key)
    if entry is not None and entry[0] is ref:
        del _outcomes[key]


def _copy(result: AuthorizationResult) -> AuthorizationResult:
    """Callers may extend or edit the errors; the cached outcome must not change."""
    errors = [
        {**error, "path": list(error["path"]), "extensions": dict(error["extensions"]),
         **({"locations": [dict(loc) for loc in error["locations"]]} if "locations" in error else {})}
        for error in result.errors
    ]
    return AuthorizationResult(result.document, result.operation, errors, result.removed_paths, result.signature)


def _authorize(
    schema: GraphQLSchema,
    requirements: SchemaRequirements,
    analysis: AnalyzedOperation,
    root: GraphQLObjectType,
    principal: Principal | None,
    policy_hook: PolicyHook | None,
) -> tuple[AuthorizationResult, bool]:
    """(outcome, whether a policy was consulted)."""
    document = analysis.document
    decider = _Decider(principal, policy_hook)
    pruner = Pruner(schema, requirements, decider.allowed, dict(analysis.fragments))
    pruned = prune_operation(document, analysis.operation, root, pruner)
    if not pruner.removed:
        return AuthorizationResult(document), decider.consulted_policies
    errors: list[dict[str, Any]] = []
    seen: set[Path] = set()
    fill: dict[Path, RemovedPath] = {}
    for position, node in pruner.removed:
        if position.keys not in seen:
            seen.add(position.keys)
            errors.append(_error(position.keys, node))
        if isinstance(node, FieldNode):
            fill.setdefault(position.keys, position.removed())
    for position in pruner.vanished:
        fill.setdefault(position.keys, position.removed())
    # The pruned operation is analyzed here, once per cached outcome, not by each later stage.
    pruned_analysis = analyze_document(pruned, analysis.name, analysis.text) if pruned is not None else None
    outcome = AuthorizationResult(pruned, pruned_analysis, errors, tuple(fill.values()), _signature(pruner.removed))
    return outcome, decider.consulted_policies


def _signature(removed: list[tuple[Position, Any]]) -> tuple[Any, ...] | None:
    """Which nodes were removed, by path and source offset (two fragments may share a path)."""
    marks = []
    for position, node in removed:
        loc = getattr(node, "loc", None)
        if loc is None:
            return None  # a document built without locations: let the pipeline print it instead
        marks.append((position.keys, loc.start))
    return tuple(sorted(set(marks)))
