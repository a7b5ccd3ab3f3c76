"""The request pipeline: parse/validate (cached) → authorize → plan (cached) → execute.

The HTTP stage turns a request into a `GraphQLRequest` and a `RequestContext` and gets back the
response body. What the client did wrong is raised as `GraphQLRequestError` (a 4xx with a GraphQL
error body); everything after validation answers with a body, partial data included.

Around each stage call the plugins' hooks run (gateway/plugins/protocol.py): `<stage>_start(state)`
before it and `<stage>(event)` after it, with the stage's result or error. The pipeline knows
nothing of what plugins do (metrics, tracing, logs); a hook nobody implements is an empty tuple.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

from graphql.language import DocumentNode, OperationType, print_ast

from gateway.document import (
    AnalyzedOperation,
    DocumentCache,
    GraphQLRequestError,
    LruCache,
    PreparedOperation,
    analyze_document,
    prepare_operation,
)
from auth.principal import Principal
from gateway.document.errors import graphql_error
from gateway.document.lru import CacheStats
from gateway.executor.fetcher import SubgraphFetcher as SubgraphFetcher  # re-exported for the HTTP stage
from gateway.executor.incremental import IncrementalResponse, delivers_incrementally
from gateway.planner import PlanningTimeout, QueryPlan
from gateway.plugins.protocol import (
    AuthorizationEvent,
    DocumentEvent,
    ExecutionEvent,
    Hooks,
    OperationEvent,
    PlanEvent,
    RequestState,
)
from gateway.settings import Settings
from gateway.supergraph import Supergraph

log = logging.getLogger("kyodo.gateway.pipeline")

DEFER_BAD_HEADER_MESSAGE = (
    "the gateway received a query with the @defer directive but the client does not accept multipart/mixed "
    "HTTP responses. To enable @defer support, add the HTTP header 'Accept: multipart/mixed;deferSpec=20220824'"
)


class AuthorizationOutcome(Protocol):
    """What the authorizer returns (gateway/authorization's AuthorizationResult): the pruned document
    (None: nothing left; the prepared operation or its document: untouched) and the errors. It may
    also carry `operation` (the pruned operation analyzed), `removed_paths` and `signature`."""

    @property
    def document(self) -> DocumentNode | PreparedOperation | None: ...

    @property
    def errors(self) -> list[dict[str, Any]]: ...


# authorize(supergraph, prepared operation, operation name, principal) -> AuthorizationResult (or awaitable of it)
Authorizer = Callable[
    [Supergraph, PreparedOperation, "str | None", "Principal | None"],
    "AuthorizationOutcome | Awaitable[AuthorizationOutcome]",
]
PlanBuilder = Callable[[Supergraph, AnalyzedOperation], QueryPlan]
PlanExecutor = Callable[[QueryPlan, Supergraph, PreparedOperation, SubgraphFetcher], Awaitable[dict[str, Any]]]
PlanPrinter = Callable[[QueryPlan], str]


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    operation_name: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] | None = None
    # A trusted document's id (`documentId`); `query` is then "" until the persisted-documents plugin resolves it.
    document_id: str | None = None


@dataclass(frozen=True)
class RequestContext:
    fetcher: SubgraphFetcher
    principal: Principal | None = None
    http_method: str = "POST"
    state: RequestState | None = None  # what the plugins' hooks see of this request
    # the client takes `multipart/mixed` (deferSpec=20220824): an operation with @defer may answer in parts
    accepts_multipart: bool = False


class Pipeline:
    def __init__(
        self,
        supergraph: Supergraph,
        settings: Settings,
        *,
        authorizer: Authorizer | None = None,
        build_plan: PlanBuilder | None = None,
        execute_plan: PlanExecutor | None = None,
        print_plan: PlanPrinter | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.settings = settings
        self.authorizer = authorizer
        self.hooks = hooks or Hooks()
        # The planner's and executor's entry points default to gateway.planner / gateway.executor
        # (their types are imported above: the engine is a required part); tests may pass their own.
        self._build_plan = build_plan
        self._print_plan = print_plan
        self._execute_plan = execute_plan
        self.documents = DocumentCache(
            supergraph.api_schema,
            settings.limits,
            settings.caches.documents,
            introspection=settings.introspection,
        )
        # (document text, operation name, authorization signature) -> QueryPlan
        self.plans: LruCache[tuple[str, str | None, Any], QueryPlan] = LruCache(settings.caches.plans)

    @property
    def build_plan(self) -> PlanBuilder:
        if self._build_plan is None:
            from gateway.planner import build_plan

            self._build_plan = build_plan
        return self._build_plan

    @property
    def print_plan(self) -> PlanPrinter:
        if self._print_plan is None:
            from gateway.planner import print_plan

            self._print_plan = print_plan
        return self._print_plan

    @property
    def execute_plan(self) -> PlanExecutor:
        if self._execute_plan is None:
            from functools import partial

            from gateway.executor import execute_plan

            self._execute_plan = partial(execute_plan, value_completion=self.settings.value_completion)
        return self._execute_plan

    def plan_cache_stats(self) -> CacheStats:
        return self.plans.stats()

    async def run(self, request: GraphQLRequest, context: RequestContext) -> dict[str, Any]:
        planned = await self.plan_operation(request, context)
        if isinstance(planned, dict):
            return planned
        return await self.execute(planned, context)

    async def plan_operation(self, request: GraphQLRequest, context: RequestContext, *,
                             streaming: bool = False) -> PlannedOperation | dict[str, Any]:
        """Parse/validate, prepare, authorize and plan: what every operation goes through before it runs.
        A dict is the whole answer already (every root field refused). `streaming`: the transport can
        carry a subscription (WebSocket, SSE); otherwise a subscription is refused here."""
        hooks = self.hooks
        state = context.state or RequestState("", context.http_method, "", {}, 0.0, principal=context.principal)

        for hook in hooks.document_start:
            await hook(state)
        try:
            valid = self.documents.get(request.query)
            analysis = valid.operation(request.operation_name)
        except Exception as error:
            for hook in hooks.document:
                await hook(DocumentEvent(state, None, error))
            raise
        state.operation_name = analysis.name
        state.operation_type = analysis.type.value
        if hooks.document:
            event = DocumentEvent(state, valid.document)
            for hook in hooks.document:
                await hook(event)
        streamed_subscription = streaming and analysis.type is OperationType.SUBSCRIPTION
        if analysis.type is not OperationType.QUERY and context.http_method == "GET" and not streamed_subscription:
            raise GraphQLRequestError.single(
                f"Cannot run a {analysis.type.value} over GET; use POST.",
                "METHOD_NOT_ALLOWED",
                status=405,
                headers={"Allow": "POST"},
            )
        if analysis.type is OperationType.SUBSCRIPTION and not streaming:
            raise GraphQLRequestError.single(
                "Subscriptions are served over WebSocket (graphql-transport-ws), as server-sent events (send "
                "Accept: text/event-stream) or as multipart HTTP (Accept: multipart/mixed;subscriptionSpec=1.0).",
                "SUBSCRIPTION_NOT_SUPPORTED")
        prepared = prepare_operation(self.supergraph.api_schema, analysis, request.variables)
        operation_name = prepared.name
        state.prepared = prepared
        if hooks.operation:
            operation_event = OperationEvent(state, prepared)
            for hook in hooks.operation:
                await hook(operation_event)

        errors: list[dict[str, Any]] = []
        signature: Any = None
        removed_paths: Any = ()
        if self.authorizer is not None:
            for hook in hooks.authorization_start:
                await hook(state)
            try:
                outcome = self.authorizer(self.supergraph, prepared, operation_name, context.principal)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
            except Exception as error:
                for hook in hooks.authorization:
                    await hook(AuthorizationEvent(state, None, error))
                raise
            for hook in hooks.authorization:
                await hook(AuthorizationEvent(state, outcome))
            errors.extend(outcome.errors)
            if outcome.document is None:
                # Every root field was refused: they read as null, as Apollo Router answers.
                from gateway.authorization import null_removed_fields

                return {"data": null_removed_fields({}, getattr(outcome, "removed_paths", ())), "errors": errors}
            signature = _authorization_signature(outcome, prepared)
            removed_paths = getattr(outcome, "removed_paths", ())
            if signature is not None:
                prepared = prepared.with_analysis(_pruned_analysis(outcome, prepared))

        key = (valid.text, operation_name, signature)
        plan = self.plans.get(key)
        cached = plan is not None
        if plan is None:
            for hook in hooks.plan_start:
                await hook(state)
            try:
                plan = self.build_plan(self.supergraph, prepared.analysis)
            except PlanningTimeout as error:
                for hook in hooks.plan:
                    await hook(PlanEvent(state, None, False, error))
                # Too costly to plan within the limit: the client's operation, not a gateway fault.
                log.warning("query planning of operation %r ran past its deadline (%s)", operation_name, error.during)
                raise GraphQLRequestError.single(
                    f"The operation could not be planned within {error.seconds:g} s; simplify it.",
                    "QUERY_PLANNING_TIMEOUT",
                ) from None
            except Exception as error:
                for hook in hooks.plan:
                    await hook(PlanEvent(state, None, False, error))
                # A validated operation the planner cannot plan is the gateway's fault, not the client's.
                log.exception("query planning failed for operation %r (phase: %s)", operation_name,
                              getattr(error, "phase", "unexpected"))
                raise GraphQLRequestError.single(
                    "The gateway could not plan this operation.", "QUERY_PLANNING_FAILED", status=500
                ) from None
            self.plans.put(key, plan)
        if hooks.plan:
            event_plan = PlanEvent(state, plan, cached)
            for hook in hooks.plan:
                await hook(event_plan)
        if not context.accepts_multipart and delivers_incrementally(plan, self.supergraph, prepared):
            # as Apollo Router answers: a client that cannot read parts gets a 406 before anything runs
            raise GraphQLRequestError.single(DEFER_BAD_HEADER_MESSAGE, "DEFER_BAD_HEADER", status=406)
        return PlannedOperation(plan, prepared, errors, removed_paths, state)

    async def execute(self, planned: PlannedOperation, context: RequestContext) -> dict[str, Any]:
        """Run a query's or mutation's plan and shape the answer."""
        hooks = self.hooks
        state, plan, prepared = planned.state, planned.plan, planned.prepared
        operation_name = prepared.name
        for hook in hooks.execution_start:
            await hook(state)
        failure: Exception | None = None
        try:
            answer = state.answer
            result = answer if answer is not None else await self.execute_plan(
                plan, self.supergraph, prepared, context.fetcher)
        except Exception as error:
            log.exception("executing operation %r failed", operation_name)
            failure = error
            result = {"data": None, "errors": [graphql_error("The gateway failed to execute this operation.", "INTERNAL_SERVER_ERROR")]}
        if hooks.execution:
            executed = ExecutionEvent(state, plan, result, failure)
            for hook in hooks.execution:
                await hook(executed)

        return planned.answer(result)


@dataclass(frozen=True)
class PlannedOperation:
    """An operation ready to run: its plan, the prepared (possibly pruned) operation, the authorization
    errors and the paths it removed (answered as null)."""

    plan: QueryPlan
    prepared: PreparedOperation
    errors: list[dict[str, Any]]
    removed_paths: Any
    state: RequestState

    def answer(self, result: dict[str, Any]) -> dict[str, Any]:
        """The client's body from one execution result (a query's, or one subscription event's)."""
        data = result.get("data")
        if self.removed_paths and isinstance(data, dict):
            # The plan came from the pruned document: the removed fields read as null.
            from gateway.authorization import null_removed_fields

            data = null_removed_fields(data, self.removed_paths)
        body: dict[str, Any] = {"data": data}
        all_errors = self.errors + list(result.get("errors") or ())
        if all_errors:
            body["errors"] = all_errors
        extensions = dict(result.get("extensions") or {})
        if extensions:
            body["extensions"] = extensions
        if isinstance(result, IncrementalResponse):
            return result.with_body(body)  # the later parts follow (the HTTP stage streams them)
        return body


def _authorization_signature(outcome: AuthorizationOutcome, original: PreparedOperation) -> Any:
    """What distinguishes one authorization outcome's plan from another's for the same document.

    An authorizer may give its own `signature`; otherwise an untouched operation (the prepared
    operation or its document handed back) is None and a pruned one is its printed text (the plan
    depends on exactly which fields remain).
    """
    signature = getattr(outcome, "signature", None)
    if signature is not None:
        return signature
    document = outcome.document
    if not isinstance(document, DocumentNode) or document is original.document:
        return None  # untouched: the prepared operation (or its document) handed back
    return print_ast(document)


def _pruned_analysis(outcome: AuthorizationOutcome, original: PreparedOperation) -> AnalyzedOperation:
    """The pruned operation's analysis: the authorizer's own (gateway.authorization analyzes it once
    per cached outcome), or made here for an authorizer that returns only a document."""
    analysis = getattr(outcome, "operation", None)
    if isinstance(analysis, AnalyzedOperation):
        return analysis
    document = outcome.document
    if not isinstance(document, DocumentNode) or document is original.document:
        return original.analysis
    return analyze_document(document, original.name, original.text)
