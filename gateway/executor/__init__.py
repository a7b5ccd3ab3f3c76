"""Executor: run a query plan against subgraphs and shape the client's response."""

from __future__ import annotations

from gateway.executor.circuit_breaker import BreakerSettings, CircuitBreaker
from gateway.executor.fetcher import (CIRCUIT_OPEN, DEADLINE_HEADER, SUBGRAPH_FAILED, TIMED_OUT, HttpSubgraphFetcher,
                                      SubgraphFetcher, SubgraphRequestError, SubgraphRoute)
from gateway.executor.run import execute_plan, execute_subscription_event

__all__ = ["BreakerSettings", "CIRCUIT_OPEN", "CircuitBreaker", "DEADLINE_HEADER", "HttpSubgraphFetcher",
           "SUBGRAPH_FAILED", "SubgraphFetcher", "SubgraphRequestError", "SubgraphRoute", "TIMED_OUT", "execute_plan",
           "execute_subscription_event"]
