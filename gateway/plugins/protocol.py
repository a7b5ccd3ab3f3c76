"""The plugin protocol: optional async hooks at every stage of a gateway request.

A plugin is any object; it takes part in a stage by defining the hook of that name. Every hook is
optional and async, and receives one small typed event (or the request's `RequestState`):

    HTTP   http_request(state)                 a GraphQL request arrived (before its body is read);
                                               raise GraphQLRequestError to refuse it (4xx)
    parse  document_start(state)               before the document is parsed and validated (cached)
           document(DocumentEvent)             after: the valid document, or the error
    oper.  operation(OperationEvent)           the prepared operation (selected, variables coerced), before
                                               authorization; raise GraphQLRequestError to refuse it
                                               (demand control, rate limits)
    auth   authorization_start(state)          before the authorization stage
           authorization(AuthorizationEvent)   after: its outcome, or the error
    plan   plan_start(state)                   before a plan is built (cache misses only)
           plan(PlanEvent)                     after every plan lookup (`cached` tells which)
    exec   execution_start(state)              before the plan runs; set `state.answer` to answer
                                               without running it (a cached or a coalesced result)
           execution(ExecutionEvent)           after: the result (mutable: add extensions here)
    fetch  subgraph_request(SubgraphRequest)   before each subgraph fetch: edit `headers`, or set
                                               `response` to answer without the network
           subgraph_response(SubgraphResponse) after each fetch: its result or error, and its time
    HTTP   http_response(HttpResponse)         the response is about to be sent: status, headers

A refusal is a `GraphQLRequestError` raised from a hook; any other exception from a hook is the
gateway's fault and is answered as an internal error (never silently ignored).

A plugin may also define `resolve_request(request, state)`, called once the HTTP body is read and before
authentication: it may return the request with its query text filled in (trusted documents, APQ).
Plugins may also define, outside the request path: `routes()` (Starlette routes served on the
public port, e.g. the context-token JWKS), `admin_routes()` (served on the admin listener, e.g.
/metrics), `install(app)` (wrap the ASGI app, e.g. a tracing middleware) and `async close()`.

The pipeline only calls hooks; it knows nothing of metrics, tracing or tokens. `Hooks` precomputes,
per hook, the tuple of plugins that define it, so a hook nobody implements costs one empty-tuple test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Mapping, Protocol

if TYPE_CHECKING:
    from starlette.datastructures import MutableHeaders

# Hook names, in the order a request meets them.
HOOK_NAMES = (
    "http_request",
    "document_start",
    "document",
    "operation",
    "authorization_start",
    "authorization",
    "plan_start",
    "plan",
    "execution_start",
    "execution",
    "subgraph_request",
    "subgraph_response",
    "http_response",
)


@dataclass(slots=True, eq=False)
class RequestState:
    """One GraphQL request as every hook sees it; filled in as the request goes through the stages."""

    request_id: str
    method: str
    path: str
    headers: Mapping[str, str]          # the client's headers (kyodo-* already stripped)
    started: float                      # time.perf_counter() when the request arrived
    # time.monotonic() instant the request's budget runs out (runtime.request_timeout_seconds); None: no budget
    deadline: float | None = None
    principal: Any = None               # auth.principal.Principal once authenticated, else None
    operation_name: str | None = None   # of the operation selected to run
    operation_type: str | None = None   # "query" | "mutation" | "subscription"
    subgraph_calls: int = 0
    client: str | None = None           # the client's address as the server saw it
    prepared: Any = None                # gateway.document's PreparedOperation, once built
    # Set by an execution_start hook: the result to use instead of running the plan.
    answer: dict[str, Any] | None = None
    # Fields other plugins add to the request's log line (e.g. trace_id).
    log_fields: dict[str, Any] = field(default_factory=dict)
    # Scratch space for plugins, keyed by the plugin's own name.
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class DocumentEvent:
    state: RequestState
    document: Any = None                # graphql DocumentNode when valid
    error: BaseException | None = None


@dataclass(slots=True, eq=False)
class OperationEvent:
    state: RequestState
    prepared: Any                       # gateway.document's PreparedOperation


@dataclass(slots=True, eq=False)
class AuthorizationEvent:
    state: RequestState
    outcome: Any = None                 # gateway.authorization's AuthorizationResult
    error: BaseException | None = None


@dataclass(slots=True, eq=False)
class PlanEvent:
    state: RequestState
    plan: Any = None
    cached: bool = False
    error: BaseException | None = None


@dataclass(slots=True, eq=False)
class ExecutionEvent:
    state: RequestState
    plan: Any
    result: dict[str, Any] | None = None
    error: BaseException | None = None


@dataclass(slots=True, eq=False)
class SubgraphRequest:
    state: RequestState
    subgraph: str                       # the subgraph's declared name (e.g. "safety")
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    headers: dict[str, str] = field(default_factory=dict)   # added to the fetch; hooks may edit
    response: dict[str, Any] | None = None                  # set by a hook: answered without the network
    notes: dict[str, Any] = field(default_factory=dict)     # plugins' scratch space, keyed by plugin name


@dataclass(slots=True, eq=False)
class SubgraphResponse:
    request: SubgraphRequest
    result: dict[str, Any] | None
    error: BaseException | None
    seconds: float


@dataclass(slots=True, eq=False)
class HttpResponse:
    state: RequestState
    status: int
    headers: MutableHeaders
    # What kind of answer: "data" (200), "request" (4xx GraphQL request error), "authentication",
    # "execution" (200 with errors), "internal" (500), "other" (playground, preflight...).
    outcome: str


class Plugin(Protocol):
    """What every plugin has; the hooks above are optional methods (see the module docstring)."""

    name: str


Hook = Callable[[Any], Awaitable[None]]


class Hooks:
    """For each hook name, the bound hooks of the plugins that define it, in plugin order."""

    __slots__ = HOOK_NAMES + ("plugins",)
    http_request: tuple[Hook, ...]
    document_start: tuple[Hook, ...]
    document: tuple[Hook, ...]
    operation: tuple[Hook, ...]
    authorization_start: tuple[Hook, ...]
    authorization: tuple[Hook, ...]
    plan_start: tuple[Hook, ...]
    plan: tuple[Hook, ...]
    execution_start: tuple[Hook, ...]
    execution: tuple[Hook, ...]
    subgraph_request: tuple[Hook, ...]
    subgraph_response: tuple[Hook, ...]
    http_response: tuple[Hook, ...]

    def __init__(self, plugins: Iterable[Any] = ()) -> None:
        self.plugins: tuple[Any, ...] = tuple(plugins)
        for name in HOOK_NAMES:
            setattr(self, name, tuple(getattr(p, name) for p in self.plugins if callable(getattr(p, name, None))))

    def implemented(self) -> dict[str, tuple[str, ...]]:
        """hook name -> names of the plugins implementing it (for the startup log and tests)."""
        return {
            name: tuple(getattr(p, "name", type(p).__name__) for p in self.plugins if callable(getattr(p, name, None)))
            for name in HOOK_NAMES
        }
