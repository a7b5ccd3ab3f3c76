"""Disaster-evening load model: a flood evening in the Kakogawa basin, against the whole stack.

    .venv/bin/python -m bench.disaster.run                     # 60 s at 90/s, 20 s at 900/s, 30 s at 90/s
    .venv/bin/python -m bench.disaster.run --rate 45 --burst-rate 0 --sustain 30   # a quick step

The stack (bench/disaster/stack.py): four subgraphs on PostgreSQL, the dev IdP, `kyodo serve --workers 2`.
The mix, open loop (bench/disaster/load.py): 45 % anonymous open shelters with hazards and occupancy, 35 %
anonymous river gauges and flood sensors, 15 % `me` of signed-in residents, 5 % card taps at a shelter door
(check-in, then check-out of the same card holder). Reported per phase: outcomes (ok, GraphQL errors,
503/429, timeouts), p50/p99 from the scheduled time, the peak of requests in flight, CPU ms per request per
process tree, and what stayed correct: every acknowledged check-in stored exactly once, and occupancy equal to
the open stays. Results: bench/results/disaster-<UTC time>/results.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from bench.disaster.load import Planned, recovery_seconds, run_schedule
from bench.disaster.stack import REPO_ROOT, DisasterStack
from bench.federation.process_tree import tree_cpu_seconds
from bench.kyodo_revision import kyodo_revision

RESULTS = REPO_ROOT / "bench" / "results"
SHELTER = "282103:S001"        # Kakogawa's shelter the seeded flood watch opens
SHELTERS_QUERY = """query OpenShelters($code: String) {
  shelters(municipalityCode: $code, openOnly: true) { id name hazards { flood earthquake } occupancy { persons } }
}"""
RIVER_QUERY = """query River($code: String!) {
  riverGauges(municipalityCode: $code) { id riverName stationName alertLevel latest { level observedAt } }
  floodSensors(municipalityCode: $code) { id name wet lastReportAt }
}"""
ME_QUERY = "{ me { id name municipality { code name } } }"
CHECK_IN = """mutation CheckIn($input: ShelterCheckInInput!) {
  shelterCheckIn(input: $input) { residentId shelter { id } }
}"""
CHECK_OUT = """mutation CheckOut($shelterId: ID!, $serial: String!) {
  shelterCheckOut(shelterId: $shelterId, certificateSerial: $serial) { residentId }
}"""


class CardHolder:
    """One card holder tapping in and out, one tap at a time; what was acknowledged is counted."""

    def __init__(self, resident_id: str, serial: str, token: str) -> None:
        self.resident_id, self.serial, self.token = resident_id, serial, token
        self.busy = False
        self.inside = False
        self.acknowledged_check_ins = 0
        self.ambiguous_check_ins = 0      # timed out or failed: stored or not, we cannot tell
        self.ambiguous_check_outs = 0

    def next_tap(self) -> Planned | None:
        if self.busy:
            return None
        self.busy = True
        if self.inside:
            return Planned("card_check_out", {"query": CHECK_OUT, "variables": {"shelterId": SHELTER,
                                                                               "serial": self.serial}},
                           self.token, self._checked_out)
        return Planned("card_check_in", {"query": CHECK_IN, "variables": {"input": {
            "shelterId": SHELTER, "certificateSerial": self.serial, "companionIds": [], "pets": 0,
            "careNeeds": []}}}, self.token, self._checked_in)

    def _checked_in(self, outcome: str, body: dict | None) -> None:
        self.busy = False
        if outcome == "ok":
            self.acknowledged_check_ins += 1
            self.inside = True
        elif outcome not in ("http_503", "http_429", "graphql_error"):
            self.ambiguous_check_ins += 1

    def _checked_out(self, outcome: str, body: dict | None) -> None:
        self.busy = False
        if outcome == "ok":
            self.inside = False
        elif outcome not in ("http_503", "http_429", "graphql_error"):
            self.ambiguous_check_outs += 1


async def sign_in_residents(issuer: str, resident_ids: list[str]) -> dict[str, str]:
    sys.path.insert(0, str(REPO_ROOT))
    from tests.integration.identity_provider import sign_in_with_pkce

    tokens = {}
    for resident_id in resident_ids:
        tokens[resident_id] = await sign_in_with_pkce(issuer, resident_id)
    return tokens


async def card_holders(issuer: str, state_dir: Path, count: int) -> list[CardHolder]:
    import httpx

    from auth.idp.card_certificates import demo_card_for, load_or_create_card_authority
    from auth.idp.card_reader import tap_card
    from subgraphs.common.roster import ROSTER, has_demo_card

    authority = load_or_create_card_authority(state_dir)
    holders, households = [], set()
    async with httpx.AsyncClient(timeout=15) as client:
        for person in ROSTER:
            if len(holders) >= count:
                break
            # one holder per household: a check-out takes the whole household out of the shelter
            if not has_demo_card(person) or person.household_id in households:
                continue
            if person.municipality_code not in _identity_members():
                continue   # the check-in is identity's: a non-member's resident is refused (PLATFORM_NOT_JOINED)
            card = demo_card_for(authority, person.id, 1)
            response = await tap_card(client, issuer, card,
                                      reader_secret=os.environ.get("KYODO_IDP_CARD_READER_SECRET",
                                                                   "kyodo-card-reader-dev-secret"))
            if response.status_code != 200:
                continue   # e.g. a municipality that has not joined identity
            households.add(person.household_id)
            holders.append(CardHolder(person.id, card.serial, response.json()["access_token"]))
    return holders


async def correctness(stack: DisasterStack, holders: list[CardHolder]) -> dict:
    import asyncpg

    dsn = stack.database_urls["identity"].replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT resident_id, count(*) AS stays, count(*) FILTER (WHERE checked_out_at IS NULL) AS open "
            "FROM identity_shelter_stay WHERE shelter_id = $1 GROUP BY resident_id", SHELTER)
        open_total = await connection.fetchval(
            "SELECT count(*) FROM identity_shelter_stay WHERE shelter_id = $1 AND checked_out_at IS NULL", SHELTER)
    finally:
        await connection.close()
    stored = {row["resident_id"]: (row["stays"], row["open"]) for row in rows}
    problems = []
    for holder in holders:
        stays, open_ = stored.get(holder.resident_id, (0, 0))
        low, high = holder.acknowledged_check_ins, holder.acknowledged_check_ins + holder.ambiguous_check_ins
        if not low <= stays <= high:
            problems.append(f"{holder.resident_id}: {stays} stays stored, {low} acknowledged (+{holder.ambiguous_check_ins} unanswered)")
        if open_ > 1:
            problems.append(f"{holder.resident_id}: {open_} open stays at once")
        if not holder.ambiguous_check_ins and not holder.ambiguous_check_outs and bool(open_) != holder.inside:
            problems.append(f"{holder.resident_id}: open stay {bool(open_)} but last acknowledged tap says {holder.inside}")
    async with aiohttp.ClientSession() as session:
        async with session.post(stack.gateway, json={"query": "query($id: ID!) { shelter(id: $id) { occupancy { persons } } }",
                                                     "variables": {"id": SHELTER}}) as response:
            body = await response.json()
    occupancy = (((body.get("data") or {}).get("shelter") or {}).get("occupancy") or {}).get("persons")
    if occupancy != open_total:
        problems.append(f"occupancy through the gateway {occupancy} != open stays {open_total}")
    return {"holders": len(holders), "acknowledged_check_ins": sum(h.acknowledged_check_ins for h in holders),
            "unanswered_taps": sum(h.ambiguous_check_ins + h.ambiguous_check_outs for h in holders),
            "open_stays": open_total, "occupancy_via_gateway": occupancy, "problems": problems}


async def measure(args: argparse.Namespace, stack: DisasterStack) -> dict:
    residents = [p.id for p in _roster_adults() if p.municipality_code in _identity_members()][: args.residents]
    tokens = await sign_in_residents(stack.issuer, residents)
    holders = await card_holders(stack.issuer, stack.work / "idp", args.card_holders)
    async with aiohttp.ClientSession() as session:
        async with session.post(stack.gateway, json={"query": "{ kakogawaBasin { code } }"}) as response:
            basin = [m["code"] for m in (await response.json())["data"]["kakogawaBasin"]]
    rng = random.Random(20261202)
    token_list = list(tokens.values())
    # Anonymous residents come from many addresses (the gateway's per-address rate limit sees them apart):
    # documentation addresses (RFC 5737), only ever written into X-Forwarded-For, never connected to.
    addresses = [f"{net}.{host}" for net in ("192.0.2", "198.51.100", "203.0.113") for host in range(1, 255)]

    def pick(number: int) -> Planned:
        roll = rng.random()
        if roll < 0.05:
            for holder in rng.sample(holders, len(holders)):
                planned = holder.next_tap()
                if planned is not None:
                    return planned
        if roll < 0.20:
            return Planned("me", {"query": ME_QUERY}, rng.choice(token_list))
        if roll < 0.55:
            return Planned("river", {"query": RIVER_QUERY, "variables": {"code": rng.choice(basin)}},
                           client=rng.choice(addresses))
        return Planned("shelters", {"query": SHELTERS_QUERY, "variables": {"code": rng.choice(basin)}},
                       client=rng.choice(addresses))

    phases = [("sustained", args.rate, args.sustain)]
    if args.burst_rate:
        phases += [("burst", args.burst_rate, args.burst), ("after burst", args.rate, args.recovery)]
    pids = stack.pids()
    cpu_before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        results = await run_schedule(session, stack.gateway, phases, pick, timeout_s=args.timeout)
    cpu_after = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    requests = sum(len(r.outcomes) for r in results)
    cpu = {name: round((cpu_after[name] - cpu_before[name]) * 1000 / max(requests, 1), 2) for name in pids}
    summaries = [r.summary() for r in results]
    for summary, phase in zip(summaries, results):
        summary["recovered_after_s"] = recovery_seconds(phase, args.p99_target)
    return {"phases": summaries, "cpu_ms_per_request": cpu, "correctness": await correctness(stack, holders)}


def _identity_members() -> frozenset[str]:
    """Municipalities that joined identity in the seeded co-use memberships (共同利用). The model's `me` and card
    taps stand for residents identity serves; a resident of a municipality that did not join gets
    PLATFORM_NOT_JOINED by design, an answer about co-use that says nothing about load, so they are left out
    of the pool (the errors histogram shows it if any such answer still comes back)."""
    from subgraphs.common.co_use import DEFAULT_MEMBERSHIPS

    return frozenset(DEFAULT_MEMBERSHIPS["identity"])


def _roster_adults():
    from datetime import date

    from subgraphs.common.roster import ROSTER

    return [p for p in ROSTER if p.age_on(date(2026, 12, 1)) >= 18]


def _markdown(report: dict) -> str:
    lines = [f"# Disaster-evening model {report['when']}", "",
             f"kyodo {report['kyodo_commit']}; gateway workers {report['gateway_workers']}; PostgreSQL; "
             f"load average at start {report['load_average_start']}", "",
             "| phase | rate/s | s | requests | ok | GraphQL errors | 503 | 429 | timeouts | other | p50 ms | p99 ms | "
             "p99 ok ms | p99 503/429 ms | in flight peak | recovered after s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for p in report["phases"]:
        o = dict(p["outcomes"])
        known = sum(o.get(k, 0) for k in ("ok", "graphql_error", "http_503", "http_429", "timeout"))
        lines.append(f"| {p['phase']} | {p['rate_per_s']} | {p['seconds']} | {p['requests']} | {o.get('ok', 0)} | "
                     f"{o.get('graphql_error', 0)} | {o.get('http_503', 0)} | {o.get('http_429', 0)} | "
                     f"{o.get('timeout', 0)} | {p['requests'] - known} | {p['p50_ms']} | {p['p99_ms']} | "
                     f"{p['ok_p99_ms']} | {p['shed_p99_ms']} | {p['in_flight_peak']} | {p['recovered_after_s']} |")
    after = [p for p in report["phases"] if p["phase"] == "after burst"]
    if after:
        recovered = after[0]["recovered_after_s"]
        lines += ["", "Recovered after the burst: " + (
            f"{recovered:g} s" if recovered is not None else "not within the phase") +
            " (from the burst's end until every later 1 s window had p99 under the target and no timeout or 5xx)"]
    lines += ["", "Failures per operation (first error's code, or the HTTP status):", "",
              "| phase | operation | outcome and code | count |", "| --- | --- | --- | ---: |"]
    for p in report["phases"]:
        for kind, errors in p["errors_by_kind"].items():
            for what, count in errors.items():
                lines.append(f"| {p['phase']} | {kind} | {what} | {count} |")
    lines += ["", "CPU ms per request, per process tree: " + ", ".join(
        f"{name} {ms}" for name, ms in report["cpu_ms_per_request"].items()), "",
        "Correctness: " + json.dumps(report["correctness"], ensure_ascii=False)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.disaster.run", description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=90.0, help="sustained arrivals per second")
    parser.add_argument("--sustain", type=float, default=60.0, help="seconds at the sustained rate")
    parser.add_argument("--burst-rate", type=float, default=900.0, help="arrivals per second in the burst (0: none)")
    parser.add_argument("--burst", type=float, default=20.0, help="seconds of burst")
    parser.add_argument("--recovery", type=float, default=30.0, help="seconds back at the sustained rate")
    parser.add_argument("--timeout", type=float, default=10.0, help="client timeout per request")
    parser.add_argument("--p99-target", type=float, default=200.0, help="ms; 'recovered' means p99 under it")
    parser.add_argument("--residents", type=int, default=40, help="signed-in residents asking `me`")
    parser.add_argument("--card-holders", type=int, default=20)
    parser.add_argument("--gateway-workers", type=int, default=2)
    parser.add_argument("--gateway-config", help="extra gateway.toml lines (a file) to compare settings")
    parser.add_argument("--postgres", default=os.environ.get("KYODO_BENCH_POSTGRES_URL",
                                                             "postgresql+asyncpg://postgres@127.0.0.1:5432/"))
    args = parser.parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = RESULTS / f"disaster-{stamp}"
    extra = Path(args.gateway_config).read_text() if args.gateway_config else ""
    stack = DisasterStack(work, args.postgres, gateway_workers=args.gateway_workers, gateway_config_extra=extra)
    report = {"when": stamp, "kyodo_commit": kyodo_revision(), "gateway_workers": args.gateway_workers,
              "load_average_start": os.getloadavg(), "arguments": vars(args)}
    try:
        stack.start()
        report.update(asyncio.run(measure(args, stack)))
    finally:
        stack.stop()
        asyncio.run(stack.drop_databases())
    report["markdown"] = _markdown(report)
    (work / "results.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    (work / "results.md").write_text(report["markdown"])
    print(report["markdown"])
    print(f"results: {work}/results.json and results.md")
    return 0 if not report["correctness"]["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
