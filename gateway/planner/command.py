"""`kyodo plan --supergraph FILE [--operation-name N] [--json] QUERY|@FILE`: print an operation's plan."""

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
        plan = build_plan(supergraph, analyze_document(document, args.operation_name, query))
    except GraphQLRequestError as error:
        return _fail(str(error))
    except PlanningError as error:
        return _fail(str(error))
    if plan.errors:
        return _fail("no plan: " + "; ".join(plan.errors))
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2))
    else:
        print(print_plan(plan))
    return 0
