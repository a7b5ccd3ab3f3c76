"""Run the federation gateway audit's cases in-process: plan + execute each query, compare as the audit does.

Usage: python bench/audit/inprocess_check.py [SUITE ...] [--base URL] [-v]
Needs the audit's subgraph server running (it serves /<suite>/supergraph and /<suite>/tests); the
base URL defaults to $AUDIT_BASE, else http://127.0.0.1:4200.
Comparison mirrors the audit's src/test.ts: deep equality of
{data: data ?? null, errors: <bool if expected.errors is a boolean, else null>}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

import aiohttp
from graphql import GraphQLError, parse, validate

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gateway.document import analyze_document, prepare_operation  # noqa: E402
from gateway.executor import HttpSubgraphFetcher, execute_plan  # noqa: E402
from gateway.planner import build_plan, print_plan  # noqa: E402
from gateway.supergraph import load_supergraph  # noqa: E402

SUITES = [
    "abstract-types", "child-type-mismatch", "circular-reference-interface", "complex-entity-call",
    "corrupted-supergraph-node-id", "enum-intersection", "fed1-external-extends",
    "fed1-external-extends-resolvable", "fed1-external-extension", "fed2-external-extends",
    "fed2-external-extension", "include-skip", "input-object-intersection",
    "interface-object-indirect-extension", "interface-object-with-requires", "keys-mashup", "mutations",
    "mysterious-external", "nested-provides", "node", "non-resolvable-interface-object", "null-keys",
    "override-type-interface", "override-with-requires", "parent-entity-call", "parent-entity-call-complex",
    "partial-union", "partial-union-complex", "provides-on-interface", "provides-on-union", "requires-circular",
    "requires-interface", "requires-requires", "requires-with-argument", "requires-with-argument-conflict",
    "requires-with-fragments", "shared-root", "simple-entity-call", "simple-inaccessible",
    "simple-interface-object", "simple-override", "simple-requires-provides", "typename",
    "unavailable-override", "union-interface-distributed", "union-intersection",
]


async def gateway_answer(supergraph, fetcher, query: str) -> dict:
    """What kyodo answers: validation errors as a GraphQL error body, else plan + execute."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return {"errors": [error.formatted]}
    errors = validate(supergraph.api_schema, document)
    if errors:
        return {"errors": [e.formatted for e in errors]}
    analysis = analyze_document(document, None, query)
    plan = build_plan(supergraph, analysis)
    return await execute_plan(plan, supergraph, prepare_operation(supergraph.api_schema, analysis, {}), fetcher)


async def subgraphs_answer(session: aiohttp.ClientSession, base: str) -> bool:
    """Whether the audit server's subgraphs execute queries (a broken install answers 500 to all)."""
    async with session.post(f"{base}/simple-entity-call/email", json={"query": "{ __typename }"}) as r:
        return r.status == 200


def comparable(expected: dict, received: dict) -> tuple[dict, dict]:
    errors_optional = not isinstance(expected.get("errors"), bool)
    got = {"data": received.get("data"),
           "errors": None if errors_optional else bool(received.get("errors"))}
    want = {"data": expected.get("data"),
            "errors": None if errors_optional else bool(expected.get("errors", False))}
    return want, got


async def supergraph_text(session: aiohttp.ClientSession, base: str, suite: str, compose: bool) -> str:
    """The audit's supergraph (composed by Apollo), or kyodo's own composition of the suite's subgraphs."""
    if not compose:
        async with session.get(f"{base}/{suite}/supergraph") as r:
            return await r.text()
    from gateway.composition.compose import compose as compose_subgraphs
    from gateway.composition.source import SubgraphSource

    async with session.get(f"{base}/{suite}/subgraphs") as r:
        listed = json.loads(await r.text())
    return compose_subgraphs([SubgraphSource(s["name"], s["url"], s["sdl"]) for s in listed])


async def run_suite(session: aiohttp.ClientSession, base: str, suite: str, verbose: bool,
                    compose: bool = False) -> tuple[int, int, list]:
    async with session.get(f"{base}/{suite}/tests") as r:
        cases = json.loads(await r.text())
    try:
        sdl = await supergraph_text(session, base, suite, compose)
    except Exception as error:  # noqa: BLE001 - a composition failure fails the whole suite
        print(f"{suite}: no supergraph: {error}")
        return 0, len(cases), [(i, c["query"], None, None) for i, c in enumerate(cases)]
    supergraph = load_supergraph(sdl)
    fetcher = HttpSubgraphFetcher(session, {k: v.url for k, v in supergraph.subgraphs.items()})
    passed = 0
    failures = []
    for i, case in enumerate(cases):
        try:
            received = await gateway_answer(supergraph, fetcher, case["query"])
        except Exception as error:  # noqa: BLE001 - a crash is a failed case, reported below
            received = {"crash": f"{error.__class__.__name__}: {error}"}
        want, got = comparable(case["expected"], received)
        if want == got:
            passed += 1
        else:
            failures.append((i, case["query"], want, received))
            if verbose:
                print(f"--- {suite} #{i} FAILED\n{case['query'].strip()}\nexpected: {json.dumps(want)}\n"
                      f"received: {json.dumps(received)[:2000]}")
                try:
                    print(print_plan(build_plan(supergraph, parse(case["query"]), None)))
                except Exception as error:  # noqa: BLE001
                    print("plan failed:", error)
    return passed, len(cases), failures


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*")
    parser.add_argument("--base", default=os.environ.get("AUDIT_BASE", "http://127.0.0.1:4200"))
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--compose", action="store_true",
                        help="compose each suite's subgraphs with kyodo instead of using the audit's supergraph")
    args = parser.parse_args()
    suites = args.suites or SUITES
    total_passed = total = 0
    async with aiohttp.ClientSession() as session:
        if not await subgraphs_answer(session, args.base):
            print(f"The audit subgraphs at {args.base} do not answer GraphQL (HTTP 500 on a trivial query):"
                  " every case would fail for reasons outside kyodo. See bench/audit/README.md.", file=sys.stderr)
            return 2
        for suite in suites:
            passed, count, failures = await run_suite(session, args.base, suite, args.verbose, args.compose)
            total_passed += passed
            total += count
            mark = "" if passed == count else "   <-- failing: " + ", ".join(str(f[0]) for f in failures)
            print(f"{suite:40s} {passed}/{count}{mark}")
    print(f"{'TOTAL':40s} {total_passed}/{total}")
    return 0 if total_passed == total else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
