"""Sensor report to subscriber, at the subgraph (no gateway): how long from posting `reportFloodSensor` (dry→wet)
over HTTP to safety until the `floodSensorTriggered` event arrives on a WebSocket subscription.

    .venv/bin/python -m bench.subgraphs.subscription_latency                        # SQLite, local broker
    .venv/bin/python -m bench.subgraphs.subscription_latency --broker redis         # SQLite, Redis pub/sub
    .venv/bin/python -m bench.subgraphs.subscription_latency --broker postgresql    # throwaway PostgreSQL database
    .venv/bin/python -m bench.subgraphs.subscription_latency --replicas 2           # post to one app, listen on another

Each round: the sensor is reported dry, then wet; the time is from just before the wet POST until its event is
read. Bounded: `--rounds` (default 30, at most 500), every wait at most 10 s. Uvicorn servers on free loopback
ports in this process (threads), stopped at the end; a throwaway PostgreSQL database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from bench.subgraphs.public_reads import _drop_postgres, _postgres_url, _prepare

SENSOR, ONO = "282189:W011", "282189"
REPORT = 'mutation($wet: Boolean!) { reportFloodSensor(sensorId: "282189:W011", wet: $wet) { wet } }'
TRIGGERED = 'subscription { floodSensorTriggered(municipalityCode: "282189") { id wet } }'
MAX_ROUNDS = 500


async def run(broker: str, rounds: int, replicas: int) -> list[float]:
    from auth.context_token import sign_context
    from auth.gateway_keys import generate_signing_key, import_public_keys, public_jwks
    from auth.principal import Principal
    from subgraphs.common.app import create_subgraph_app
    from subgraphs.common.serving_settings import ServingSettings
    from subgraphs.safety.schema import schema
    from subgraphs.safety.subscriptions import flood_sensor_topic
    from tests.subgraphs.subscription_client import post, served, transport_ws, wait_subscribed

    admin = os.environ.get("KYODO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    folder = tempfile.TemporaryDirectory()
    url = (await _postgres_url(admin) if broker == "postgresql"
           else f"sqlite+aiosqlite:///{Path(folder.name) / 'safety.sqlite'}")
    key = generate_signing_key()
    keys = import_public_keys(public_jwks(key))
    device = sign_context(Principal(subject=SENSOR, municipality=ONO, roles=frozenset({"device"}),
                                    scopes=frozenset()), "safety", key)
    settings = ServingSettings(events_backend=broker, events_channel=f"kyodo.bench{secrets.token_hex(4)}",
                               events_redis_url=os.environ.get("KYODO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
                               if broker == "redis" else None)
    try:
        await _prepare("safety", url)
        apps = [create_subgraph_app("safety", schema, database_url=url, keys=keys, settings=settings)
                for _ in range(replicas)]
        seconds: list[float] = []
        async with served(apps[0], "safety-listen") as listen_url:
            async with (served(apps[-1], "safety-post") if replicas > 1 else _same(listen_url)) as post_url:
                async with transport_ws(listen_url) as ws:
                    operation = await ws.subscribe(TRIGGERED)
                    await wait_subscribed(apps[0], flood_sensor_topic(ONO))
                    for _ in range(rounds):
                        await post(post_url, REPORT, {"wet": False}, token=device)
                        started = time.perf_counter()
                        await post(post_url, REPORT, {"wet": True}, token=device)
                        payload = await ws.next_payload(operation)
                        seconds.append(time.perf_counter() - started)
                        assert payload["data"]["floodSensorTriggered"]["id"] == SENSOR, payload
        return seconds
    finally:
        if broker == "postgresql":
            await _drop_postgres(admin, url)
        folder.cleanup()


class _same:
    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> str:
        return self.url

    async def __aexit__(self, *_: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=("local", "postgresql", "redis"), default="local")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--replicas", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()
    if args.broker == "local" and args.replicas > 1:
        parser.error("the local broker does not reach another replica")
    rounds = max(1, min(args.rounds, MAX_ROUNDS))
    seconds = sorted(asyncio.run(run(args.broker, rounds, args.replicas)))
    ms = [s * 1000 for s in seconds]
    print(f"broker={args.broker} replicas={args.replicas} rounds={rounds}: report POST -> event received, ms: "
          f"median {statistics.median(ms):.1f}, p90 {ms[int(len(ms) * 0.9) - 1]:.1f}, max {ms[-1]:.1f} "
          f"(includes the POST's own round trip)")


if __name__ == "__main__":
    main()
