"""Plan exposure: a client sending `Apollo-Expose-Query-Plan: true` gets the plan in
`extensions.apolloQueryPlan`, shaped as Apollo Router's; installed only with `expose_query_plan = true`."""

from __future__ import annotations

from typing import Any

from gateway.plugins.protocol import ExecutionEvent

EXPOSE_PLAN_HEADER = "apollo-expose-query-plan"


def plan_extension(plan: Any) -> dict[str, Any]:
    from gateway.planner import print_plan

    data = plan.to_dict()
    if not (isinstance(data, dict) and data.get("kind") == "QueryPlan"):
        data = {"kind": "QueryPlan", "node": data}
    return {"object": data, "text": print_plan(plan)}


class QueryPlanPlugin:
    name = "query_plan"

    async def execution(self, event: ExecutionEvent) -> None:
        if event.result is None or event.state.headers.get(EXPOSE_PLAN_HEADER, "").strip().lower() != "true":
            return
        extensions = dict(event.result.get("extensions") or {})
        extensions["apolloQueryPlan"] = plan_extension(event.plan)
        event.result["extensions"] = extensions
