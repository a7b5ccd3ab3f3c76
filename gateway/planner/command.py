"""`kyodo plan --supergraph FILE [--operation-name N] [--json] QUERY|@FILE`: print an operation's plan,
and its estimated cost under the default demand-control settings (gateway/traffic/cost.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphql import GraphQLError, parse, validate

from gateway.document import GraphQLRequestError, analyze_document
from gateway.planner.build import build_plan
from gateway.planner.errors import PlanningError
from gateway.planner.printer import print_plan
from gateway.supergraph import SupergraphError, load_supergraph


def _fail(message: str) -> int:
    print(f"kyodo plan: {message}", file=sys.stderr)
    return 2


def plan_command(args: argparse.Namespace) -> int:
    try:
        sdl = Path(args.supergraph).read_text(encoding="utf-8")
    except OSError as error:
        return _fail(f"cannot read supergraph {args.supergraph}: {error.strerror or error}")
    try:
        supergraph = load_supergraph(sdl)
    except SupergraphError as error:
        return _fail(f"{args.supergraph}: {error}")
    query = args.query
    if query.startswith("@"):
        try:
            query = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as error:
            return _fail(f"cannot read query file {query[1:]}: {error.strerror or error}")
    try:
        document = parse(query)
    except GraphQLError as error:
        return _fail(f"the query does not parse: {error.message}")
    errors = validate(supergraph.api_schema, document)
    if errors:
        return _fail("the query is not valid against the API schema:\n" + "\n".join(f"  {e.message}" for e in errors))
    try:
        operation = analyze_document(document, args.operation_name, query)
        plan = build_plan(supergraph, operation)
    except GraphQLRequestError as error:
        return _fail(str(error))
    except PlanningError as error:
        return _fail(str(error))
    if plan.errors:
        return _fail("no plan: " + "; ".join(plan.errors))
    from gateway.traffic.cost import CostEstimationError, describe_estimate, estimate_cost

    try:
        estimate = estimate_cost(supergraph, operation.operation, operation.fragments, {})
    except CostEstimationError as error:
        estimate, cost_problem = None, error.message
    if args.json:
        data = plan.to_dict()
        if estimate is not None:
            data["cost"] = {"estimated": estimate.total, "max": estimate.max_cost,
                            "mostExpensive": [{"path": p, "cost": c} for p, c in estimate.most_expensive(10)]}
        print(json.dumps(data, indent=2))
    else:
        print(print_plan(plan))
        print("\n# " + (describe_estimate(estimate) if estimate is not None else f"cost: {cost_problem}")
              .replace("\n", "\n# "))
    return 0
