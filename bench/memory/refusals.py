"""Memory under refused documents: RSS before and after N refusals of each limit kind and N valid queries.

    .venv/bin/python -m bench.memory.refusals                  # 10,000 of each, the serving process's GC tuning
    .venv/bin/python -m bench.memory.refusals --count 600 --seconds 30 --default-gc

Runs in one process through the gateway's pipeline (document cache, limits, planning, execution with a
fetcher that answers at once), after `tune_garbage_collector` as `kyodo serve` applies it (`--default-gc`:
CPython's thresholds instead). Every document is distinct, as an attacker's would be. Each kind stops after
`--count` documents or `--seconds`, whichever comes first; the output says how many ran. The collector is
never forced: what RSS shows is what a serving process keeps.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import time
from collections.abc import Callable
from typing import Any

from gateway.document import GraphQLRequestError
from gateway.document.limits import DocumentLimits
from gateway.pipeline import GraphQLRequest, Pipeline, RequestContext
from gateway.settings import RuntimeSettings, Settings
from gateway.supergraph import load_supergraph

SUPERGRAPH = """
schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{ query: Query }
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar join__FieldSet
scalar link__Import
enum join__Graph { SAFETY @join__graph(name: "safety", url: "http://127.0.0.1:9/safety") }
enum link__Purpose { SECURITY EXECUTION }
type Query @join__type(graph: SAFETY) { shelter(id: ID): Shelter @join__field(graph: SAFETY) }
type Shelter @join__type(graph: SAFETY) { id: ID! name: String! shelter(id: ID): Shelter }
"""

LIMITS = DocumentLimits()


def _nested(depth: int, i: int) -> str:
    return "{ shelter(id: %d) " % i * depth + "{ id }" + " }" * depth


# kind -> document i (each one distinct)
KINDS: dict[str, Callable[[int], str]] = {
    "document_bytes": lambda i: "{ shelter { id } }" + " " * LIMITS.max_document_bytes + f"#{i}",
    "tokens": lambda i: "{ shelter(id: %d) { " % i + "id " * (LIMITS.max_tokens + 1) + "} }",
    "depth": lambda i: _nested(LIMITS.max_depth + 1, i),
    "aliases": lambda i: "{ " + " ".join(f"a{n}: shelter(id: {i}) {{ id }}" for n in range(LIMITS.max_aliases + 1)) + " }",
    "aliases_10000": lambda i: "{ " + " ".join(f"a{n}: shelter(id: {i}) {{ id }}" for n in range(10_000)) + " }",
    "root_fields": lambda i: "{ " + " ".join(f"r{n}: shelter(id: {i}) {{ id }}" for n in range(LIMITS.max_root_fields + 1)) + " }",
    "fragments": lambda i: f"{{ shelter(id: {i}) {{ ...F0 }} }} " + " ".join(
        f"fragment F{n} on Shelter {{ ...F{n + 1} }}" for n in range(LIMITS.max_fragments + 1)) + " fragment F%d on Shelter { id }" % (LIMITS.max_fragments + 1),
    "fragment_chain_10000": lambda i: f"{{ shelter(id: {i}) {{ ...F0 }} }} " + " ".join(
        f"fragment F{n} on Shelter {{ ...F{n + 1} }}" for n in range(10_000)) + " fragment F10000 on Shelter { id }",
    "repeated_fields": lambda i: "{ shelter(id: %d) { " % i + "id " * (LIMITS.max_repeated_fields + 1) + "} }",
    "syntax": lambda i: "{ shelter(id: %d) { id } " % i,
    "valid": lambda i: "{ shelter(id: %d) { id name } }" % i,
}


class _Answer:
    async def fetch(self, subgraph: str, query: str, variables: dict[str, Any] | None,
                    operation_name: str | None) -> dict[str, Any]:
        return {"data": {"shelter": {"id": "1", "name": "Kakogawa Gym"}}}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _run(kinds: list[str], count: int, seconds: float) -> list[dict[str, Any]]:
    pipeline = Pipeline(load_supergraph(SUPERGRAPH), Settings())
    context = RequestContext(fetcher=_Answer())
    rows = []
    for kind in kinds:
        make = KINDS[kind]
        before = _rss_mb()
        started = time.perf_counter()
        refused = answered = 0
        slowest = 0.0
        n = 0
        while n < count and time.perf_counter() - started < seconds:
            text = make(n)
            t0 = time.perf_counter()
            try:
                await pipeline.run(GraphQLRequest(text), context)
                answered += 1
            except GraphQLRequestError:
                refused += 1
            slowest = max(slowest, time.perf_counter() - t0)
            del text
            n += 1
        elapsed = time.perf_counter() - started
        rows.append({"kind": kind, "documents": n, "refused": refused, "answered": answered,
                     "rss_before_mb": round(before, 1), "rss_after_mb": round(_rss_mb(), 1),
                     "growth_mb": round(_rss_mb() - before, 1), "ms_per_document": round(elapsed / max(n, 1) * 1e3, 3),
                     "slowest_ms": round(slowest * 1e3, 2)})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="documents per kind")
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget per kind")
    parser.add_argument("--kind", action="append", choices=sorted(KINDS), help="only these kinds (repeatable)")
    parser.add_argument("--default-gc", action="store_true", help="CPython's GC thresholds, no freeze")
    parser.add_argument("--gc-thresholds", help="gen0,gen1,gen2 instead of RuntimeSettings' defaults")
    args = parser.parse_args()
    if not args.default_gc:
        from gateway.http.runtime import tune_garbage_collector

        runtime = RuntimeSettings()
        if args.gc_thresholds:
            gen0, gen1, gen2 = (int(v) for v in args.gc_thresholds.split(","))
            runtime = RuntimeSettings(gc_gen0_threshold=gen0, gc_gen1_threshold=gen1, gc_gen2_threshold=gen2)
        tune_garbage_collector(runtime)
    print(json.dumps({"gc_threshold": gc.get_threshold(), "rss_start_mb": round(_rss_mb(), 1)}), flush=True)
    start = _rss_mb()
    rows = asyncio.run(_run(args.kind or list(KINDS), args.count, args.seconds))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"total_growth_mb": round(_rss_mb() - start, 1), "peak_rss_mb": round(peak, 1),
                      "documents": sum(r["documents"] for r in rows)}), flush=True)


if __name__ == "__main__":
    main()
