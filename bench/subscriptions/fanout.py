"""Subscription fan-out through one gateway worker: subscribers × events/s, latency publish -> receipt.

    .venv/bin/python -m bench.subscriptions.fanout --subscribers 100 500 1000 --rate 10 --seconds 10 [--no-deduplicate]

Processes (each its own, so the gateway's CPU is its own): the two fixture subgraphs of
tests/subscriptions (gauges owns `levelChanged`, stations adds `Station.name` per event) in one; the
gateway (one uvicorn worker, anonymous, limits raised to the run's size) in another; the subscribers
(graphql-transport-ws over aiohttp) and the publisher in this one. For each subscriber count the run
opens that many WebSocket subscriptions to one station, waits until the subgraph has them all, then
publishes `rate` events a second for `seconds` seconds (POST `reportLevel` to the subgraph) and records,
for every subscriber and event, the time from just before the publishing POST to the event's receipt
(one machine: one monotonic clock). Reported: events delivered of expected, p50/p99/max latency, gateway
CPU seconds per 1,000 deliveries. Bounded: at most 5,000 subscribers, 120 s of publishing per step, and
a 30 s wait for stragglers after the last event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from deploy.free_port import free_port as _free_port

MAX_SUBSCRIBERS = 5000
MAX_SECONDS = 120
STRAGGLER_SECONDS = 30
QUERY = """subscription($s: String!) {
  levelChanged(station: $s) { sequence levelCm station { id name } }
}"""



def _serve_subgraphs(gauges_port: int, stations_port: int) -> None:
    import threading

    import uvicorn

    from tests.subscriptions.fixture_subgraphs import Broker, gauges_app, stations_app

    stations = uvicorn.Server(uvicorn.Config(stations_app(), host="127.0.0.1", port=stations_port,
                                             log_level="warning", lifespan="off"))
    threading.Thread(target=stations.run, daemon=True).start()
    uvicorn.Server(uvicorn.Config(gauges_app(Broker()), host="127.0.0.1", port=gauges_port, log_level="warning",
                                  lifespan="off", ws_max_queue=1024)).run()


def _serve_gateway(port: int, gauges_url: str, stations_url: str, subscribers: int, deduplicate: bool) -> None:
    import uvicorn

    from gateway.http import create_app
    from gateway.settings import settings_from_mapping
    from gateway.supergraph import load_supergraph
    from tests.subscriptions.conftest import supergraph_sdl

    settings = settings_from_mapping({
        "subscriptions": {"max_per_principal": subscribers + 10, "max_total": subscribers + 10,
                          "deduplicate": deduplicate},
        "rate_limit": {"enabled": False},
        "telemetry": {"request_log": False},
    })
    app = create_app(settings, load_supergraph(supergraph_sdl(gauges_url, stations_url)))
    uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                  ws_max_queue=1024)).run()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wait_http(url: str, session: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            async with session.get(url) as response:
                if response.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not start")
        await asyncio.sleep(0.1)


async def _subscriber(session: aiohttp.ClientSession, url: str, station: str, received: dict[int, list[float]],
                      ready: asyncio.Event, counter: list[int], total: int, errors: list[str]) -> None:
    async with session.ws_connect(url, protocols=("graphql-transport-ws",), max_msg_size=0) as ws:
        await ws.send_str(json.dumps({"type": "connection_init"}))
        await ws.receive()
        await ws.send_str(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": QUERY, "variables": {"s": station}}}))
        counter[0] += 1
        if counter[0] == total:
            ready.set()
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            now = time.monotonic()
            body = json.loads(message.data)
            if body.get("type") == "next":
                data = body["payload"].get("data") or {}
                event = data.get("levelChanged")
                if event and event["station"].get("name"):
                    received.setdefault(event["sequence"], []).append(now)
                elif body["payload"].get("errors"):
                    errors.append(body["payload"]["errors"][0].get("message", "?"))
            elif body.get("type") == "error":
                errors.append(str(body.get("payload"))[:200])


async def _subscribers_at_subgraph(session: aiohttp.ClientSession, gauges_url: str, station: str) -> int:
    async with session.post(gauges_url + "/graphql", json={
            "query": "query($s: String!) { subscribers(station: $s) }", "variables": {"s": station}}) as response:
        return int((await response.json())["data"]["subscribers"])


async def run_step(gateway_url: str, gauges_url: str, gateway_pid: int, subscribers: int, rate: float,
                   seconds: float, deduplicate: bool) -> dict[str, Any]:
    station = f"bench-{subscribers}-{time.time_ns()}"
    received: dict[int, list[float]] = {}
    published: dict[int, float] = {}
    ready = asyncio.Event()
    errors: list[str] = []
    connector = aiohttp.TCPConnector(limit=0)
    # control requests (counting streams, publishing) on fresh connections: a pooled one the subgraph has
    # just closed would reset
    async with aiohttp.ClientSession(connector=connector) as session, \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as control:
        ws_url = gateway_url.replace("http://", "ws://") + "/graphql"
        counter = [0]
        tasks = [asyncio.create_task(_subscriber(session, ws_url, station, received, ready, counter, subscribers,
                                                 errors))
                 for _ in range(subscribers)]
        await asyncio.wait_for(ready.wait(), 120)
        # Until the subgraph has every stream (one per subscriber; one in all when deduplicated), or 20 s
        # pass without a new one: then the run goes on with those and reports how many there were.
        target = 1 if deduplicate else subscribers
        streams, last_change = 0, time.monotonic()
        while streams < target and time.monotonic() - last_change < 20:
            now_streams = await _subscribers_at_subgraph(control, gauges_url, station)
            if now_streams != streams:
                streams, last_change = now_streams, time.monotonic()
            await asyncio.sleep(0.2)
        cpu_before = _cpu_seconds(gateway_pid)
        client_cpu_before = time.process_time()
        events = int(rate * seconds)
        start = time.monotonic()
        for sequence in range(1, events + 1):
            due = start + (sequence - 1) / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            published[sequence] = time.monotonic()
            async with control.post(gauges_url + "/graphql", json={
                    "query": "mutation($s: String!, $n: Int!) { reportLevel(station: $s, levelCm: 100, sequence: $n) }",
                    "variables": {"s": station, "n": sequence}}) as response:
                await response.read()
        finish = time.monotonic() + STRAGGLER_SECONDS
        expected = events * subscribers
        while sum(len(v) for v in received.values()) < expected and time.monotonic() < finish:
            await asyncio.sleep(0.1)
        cpu = _cpu_seconds(gateway_pid) - cpu_before
        client_cpu = time.process_time() - client_cpu_before
        # up to the last receipt (not the straggler wait): the shares of a core each side used meanwhile
        wall = max((max(times) for times in received.values()), default=time.monotonic()) - start
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(at - published[seq] for seq, times in received.items() for at in times)
    delivered = len(latencies)
    return {
        "subscribers": subscribers, "events_per_second": rate, "seconds": seconds,
        "subgraph_streams": streams, "expected": expected, "delivered": delivered,
        "errors": len(errors), "first_error": errors[0] if errors else None,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "deliveries_per_second": round(delivered / seconds, 1),
        "gateway_cpu_ms_per_1000": round(cpu * 1000 / delivered * 1000, 1) if delivered else None,
        # share of one core this process (subscribers + publisher) used: near 1.0, the client is the bottleneck
        "gateway_cpu_share": round(cpu / wall, 2), "client_cpu_share": round(client_cpu / wall, 2),
        "load_average_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
    }


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    gauges_port, stations_port, gateway_port = _free_port(), _free_port(), _free_port()
    gauges_url, stations_url = f"http://127.0.0.1:{gauges_port}", f"http://127.0.0.1:{stations_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    subgraphs = context.Process(target=_serve_subgraphs, args=(gauges_port, stations_port), daemon=True)
    gateway = context.Process(target=_serve_gateway, args=(gateway_port, gauges_url, stations_url,
                                                            max(args.subscribers), args.deduplicate), daemon=True)
    subgraphs.start()
    results = []
    try:
        async with aiohttp.ClientSession() as session:
            await _wait_http(gauges_url + "/graphql", session)
            await _wait_http(stations_url + "/graphql", session)
            gateway.start()
            await _wait_http(gateway_url + "/health", session)
        for subscribers in args.subscribers:
            result = await run_step(gateway_url, gauges_url, gateway.pid, subscribers, args.rate, args.seconds,
                                    args.deduplicate)
            result["deduplicate"] = args.deduplicate
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        for process in (gateway, subgraphs):
            if process.pid is not None and process.is_alive():
                process.terminate()
                process.join(10)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.subscriptions.fanout")
    parser.add_argument("--subscribers", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--rate", type=float, default=10.0, help="events published per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to publish, per step")
    parser.add_argument("--no-deduplicate", dest="deduplicate", action="store_false",
                        help="every subscriber its own subgraph stream and execution ([subscriptions] deduplicate)")
    args = parser.parse_args(argv)
    if max(args.subscribers) > MAX_SUBSCRIBERS or min(args.subscribers) < 1:
        parser.error(f"subscribers must be 1..{MAX_SUBSCRIBERS}")
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.rate <= 1000:
        parser.error(f"seconds must be in (0, {MAX_SECONDS}] and rate in (0, 1000]")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
