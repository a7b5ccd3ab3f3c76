"""Demand control as a plugin: the static cost of each operation before anything is fetched, refusal above
the maximum, the actual cost after execution as a metric, and both in `extensions.cost` when asked.

The estimate (gateway/traffic/cost.py, Apollo's @cost/@listSize rules) is read at the `operation` hook,
where the prepared operation is known and nothing was authorized, planned or fetched yet. It is kept per
(document, operation, variables) in a bounded LRU, so a repeated request costs one dictionary lookup.
The rate-limit plugin, after this one, weighs the request by `state.notes["cost"]`.

A refused operation is answered with HTTP 400 and one GraphQL error `COST_ESTIMATED_TOO_EXPENSIVE`
(estimate and maximum in `extensions.cost`); no subgraph is called. Apollo Router reports the same code
and extensions; it refuses at its execution stage, we before planning, so a too expensive operation
does not cost a plan either.
"""

from __future__ import annotations

from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.document import GraphQLRequestError
from gateway.document.lru import LruCache
from gateway.plugins.protocol import ExecutionEvent, OperationEvent
from gateway.traffic.actual_cost import actual_cost
from gateway.traffic.cost import (
    CostEstimate,
    CostEstimationError,
    DemandControlSettings,
    cost_estimation_error,
    cost_extensions,
    cost_refusal_error,
    estimate_cost,
)

COST_NOTE = "cost"                      # state.notes key: the CostEstimate of this request
EXPOSE_HEADER = "x-expose-cost"         # a client asks for extensions.cost with `true`
_COST_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000)


class DemandControlPlugin:
    name = "demand_control"

    def __init__(self, supergraph: Any, settings: DemandControlSettings, registry: CollectorRegistry | None = None,
                 cache_size: int = 1024) -> None:
        self.supergraph = supergraph
        self.settings = settings
        self.estimates: LruCache[tuple[str, str | None, bytes], CostEstimate] = LruCache(cache_size)
        self.executions = 0
        self.estimated = Histogram("kyodo_gateway_operation_cost_estimated", "Static cost estimate per operation",
                                   buckets=_COST_BUCKETS, registry=registry)
        self.actual = Histogram("kyodo_gateway_operation_cost_actual",
                                "Cost counted from the response (a sample: demand_control.actual_cost_sample_every)",
                                buckets=_COST_BUCKETS, registry=registry)
        self.refused = Counter("kyodo_gateway_operations_refused_for_cost", "Operations refused as too expensive",
                               registry=registry)

    def estimate(self, prepared: Any) -> CostEstimate:
        variables = prepared.raw_variables
        key = (prepared.text, prepared.name, orjson.dumps(dict(variables), option=orjson.OPT_SORT_KEYS) if variables else b"")
        estimate = self.estimates.get(key)
        if estimate is None:
            estimate = estimate_cost(self.supergraph, prepared.operation, prepared.analysis.fragments, variables,
                                     self.settings)
            self.estimates.put(key, estimate)
        return estimate

    async def operation(self, event: OperationEvent) -> None:
        try:
            estimate = self.estimate(event.prepared)
        except CostEstimationError as error:
            raise GraphQLRequestError([cost_estimation_error(error)], 400) from None
        event.state.notes[COST_NOTE] = estimate
        self.estimated.observe(estimate.total)
        if estimate.too_expensive:
            self.refused.inc()
            raise GraphQLRequestError([cost_refusal_error(estimate)], 400)

    async def execution(self, event: ExecutionEvent) -> None:
        state = event.state
        estimate = state.notes.get(COST_NOTE)
        result = event.result
        if estimate is None or result is None or state.prepared is None:
            return
        expose = self.settings.expose_in_extensions or state.headers.get(EXPOSE_HEADER, "").lower() == "true"
        # The actual cost walks the whole response: counted when exposed, else for one response in N (metric).
        every = self.settings.actual_cost_sample_every
        self.executions += 1
        if not expose and not (every and self.executions % every == 0):
            return
        prepared = state.prepared
        actual = actual_cost(self.supergraph, prepared.operation, prepared.analysis.fragments, result.get("data"),
                             self.settings)
        self.actual.observe(actual)
        if expose:
            result.setdefault("extensions", {}).update(cost_extensions(estimate, actual))
