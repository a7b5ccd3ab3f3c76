"""Executor: run a query plan against subgraphs and shape the client's response."""

from __future__ import annotations

from gateway.executor.fetcher import HttpSubgraphFetcher, SubgraphFetcher, SubgraphRequestError
from gateway.executor.run import SUBGRAPH_FAILED, execute_plan, execute_subscription_event

__all__ = ["HttpSubgraphFetcher", "SUBGRAPH_FAILED", "SubgraphFetcher", "SubgraphRequestError", "execute_plan", "execute_subscription_event"]
