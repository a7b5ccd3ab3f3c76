"""Query planner: a prepared operation -> a plan of subgraph fetches (immutable plain data)."""

from __future__ import annotations

from gateway.planner.build import build_plan
from gateway.planner.errors import (
    DEFAULT_PLANNING_SECONDS,
    NoRootTypeError,
    PlanningError,
    PlanningTimeout,
    RefinementError,
    UnplannableError,
)
from gateway.planner.nodes import (
    Condition,
    Defer,
    DeferredNode,
    Fetch,
    Flatten,
    Parallel,
    PlanField,
    PlanFragment,
    PlanNode,
    PlanSelection,
    QueryPlan,
    Sequence,
    SubscriptionNode,
)
from gateway.planner.printer import print_plan

__all__ = [
    "DEFAULT_PLANNING_SECONDS",
    "NoRootTypeError",
    "PlanningTimeout",
    "RefinementError",
    "UnplannableError",
    "Condition",
    "Defer",
    "DeferredNode",
    "Fetch",
    "Flatten",
    "Parallel",
    "PlanField",
    "PlanFragment",
    "PlanNode",
    "PlanSelection",
    "PlanningError",
    "QueryPlan",
    "Sequence",
    "SubscriptionNode",
    "build_plan",
    "print_plan",
]
