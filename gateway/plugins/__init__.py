"""Plugins: optional hooks at every stage of a gateway request (protocol.py), the gateway's own
(request id, request log, metrics, tracing, CSRF, context token, plan exposure) and the operator's,
named in gateway.toml's `[[plugins]]` (loading.py)."""

from __future__ import annotations

from gateway.plugins.protocol import (
    HOOK_NAMES,
    AuthorizationEvent,
    DocumentEvent,
    ExecutionEvent,
    Hooks,
    HttpResponse,
    OperationEvent,
    PlanEvent,
    Plugin,
    RequestState,
    SubgraphRequest,
    SubgraphResponse,
)

__all__ = [
    "HOOK_NAMES",
    "AuthorizationEvent",
    "DocumentEvent",
    "ExecutionEvent",
    "Hooks",
    "HttpResponse",
    "OperationEvent",
    "PlanEvent",
    "Plugin",
    "RequestState",
    "SubgraphRequest",
    "SubgraphResponse",
]
