"""CPU per request of the flood-evening reads, straight into each subgraph's ASGI app (no network, no
gateway): what safety and identity spend on shelters with hazards, the shelters' occupancy (`_entities` as
the gateway sends it), river gauges, flood sensors, and a resident's `me`.

    .venv/bin/python -m bench.subgraphs.public_reads                         # SQLite, 300 requests per query
    .venv/bin/python -m bench.subgraphs.public_reads --backend postgresql   # a throwaway database on
                                                                            # $KYODO_BENCH_POSTGRES_URL (default
                                                                            # postgresql+asyncpg://postgres@127.0.0.1:5432/test)
    .venv/bin/python -m bench.subgraphs.public_reads --profile shelters      # cProfile of one query, top 25

Requests run one after another in this process; CPU is `time.process_time()` over the loop divided by the
count (the app's work plus a few microseconds of calling it), wall time is the same for latency. Bounded:
at most --requests per query (default 300). Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

KAKOGAWA = "282103"
SHELTERS = ("{ shelters(limit: 100) { id name address capacity isOpen evacuees vacancy remainingPlaces "
            "hazards { flood landslide stormSurge earthquake tsunami largeFire inlandFlood volcano } } }")
GAUGES = ("{ riverGauges { id riverName stationName alertLevel thresholds { standby caution danger } "
          "latest { observedAt level stage alertLevel } } }")
SENSORS = '{ floodSensors(municipalityCode: "%s") { id name wet lastReportAt batteryPercent health } }' % KAKOGAWA
OCCUPANCY = ("query($r: [_Any!]!) { _entities(representations: $r) { ... on Shelter { id occupancy "
             "{ persons households personsWithCareNeeds pets } } } }")
ME = "{ me { id name nameKana birthDate municipality { code name } } }"


class AsgiCaller:
    """POST /graphql straight into an ASGI app, without an HTTP client in between."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def post(self, body: dict, headers: dict[str, str] | None = None) -> dict:
        raw = json.dumps(body).encode()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
                 "root_path": "", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 9),
                 "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                             *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())]}
        chunks: list[bytes] = []
        sent = False
        done = asyncio.Event()

        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    done.set()

        await self.app(scope, receive, send)
        return json.loads(b"".join(chunks))


async def _postgres_url(admin: str) -> str:
    name = f"kyodo_bench_{secrets.token_hex(4)}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    await engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres(admin: str, url: str) -> None:
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    await engine.dispose()


async def _prepare(name: str, url: str) -> None:
    import importlib

    from subgraphs.common.db import Database, upgrade_async

    await upgrade_async(name, url)
    database = Database(name, url)
    try:
        async with database.transaction() as session:
            await importlib.import_module(f"subgraphs.{name}.seed").seed(session)
    finally:
        await database.dispose()


async def _measure(label: str, call, requests: int, profile: bool) -> dict:  # noqa: ANN001
    body = await call()   # warm up (and check it answers)
    if body.get("errors"):
        raise SystemExit(f"{label}: {body['errors'][:2]}")
    walls: list[float] = []
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(requests):
        started = time.perf_counter()
        await call()
        walls.append(time.perf_counter() - started)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    cpu_ms = (time.process_time() - cpu) * 1000 / requests
    return {"query": label, "cpu_ms": round(cpu_ms, 2), "p50_ms": round(statistics.median(walls) * 1000, 2),
            "requests": requests}


async def run(backend: str, requests: int, only: str | None) -> list[dict]:
    from auth.context_token import sign_context
    from auth.gateway_keys import generate_signing_key, import_public_keys, public_jwks
    from auth.principal import Principal
    from subgraphs.common.roster import by_label
    from subgraphs.identity.app import create_app as identity_app
    from subgraphs.safety.app import create_app as safety_app

    admin = os.environ.get("KYODO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    folder = tempfile.TemporaryDirectory(prefix="kyodo-bench-")
    urls = {}
    for name in ("safety", "identity"):
        urls[name] = (await _postgres_url(admin) if backend == "postgresql"
                      else f"sqlite+aiosqlite:///{Path(folder.name) / (name + '.sqlite')}")
        await _prepare(name, urls[name])
    key = generate_signing_key()
    keys = import_public_keys(public_jwks(key))
    safety, identity = safety_app(urls["safety"], keys), identity_app(urls["identity"], keys)
    taro = by_label("himeji-1/taro")
    me_token = sign_context(Principal(subject=taro.id, municipality=taro.municipality_code,
                                      roles=frozenset({"resident", "guardian"}), scopes=frozenset()), "identity", key)
    s, i = AsgiCaller(safety), AsgiCaller(identity)
    shelter_ids = [row["id"] for row in (await s.post({"query": SHELTERS}))["data"]["shelters"]]
    reps = {"r": [{"__typename": "Shelter", "id": sid} for sid in shelter_ids]}
    queries = {
        "shelters": lambda: s.post({"query": SHELTERS}),
        "occupancy": lambda: i.post({"query": OCCUPANCY, "variables": reps}),
        "river_gauges": lambda: s.post({"query": GAUGES}),
        "flood_sensors": lambda: s.post({"query": SENSORS}),
        "me": lambda: i.post({"query": ME}, {"Kyodo-Context": me_token}),
    }
    results = []
    try:
        for label, call in queries.items():
            if only and label != only:
                continue
            result = await _measure(label, call, requests, profile=bool(only))
            result.update(backend=backend, shelters=len(shelter_ids))
            results.append(result)
    finally:
        await safety.state.database.dispose()
        await identity.state.database.dispose()
        if backend == "postgresql":
            for url in urls.values():
                await _drop_postgres(admin, url)
        folder.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", metavar="QUERY", default=None,
                        help="profile one query (shelters, occupancy, river_gauges, flood_sensors, me)")
    args = parser.parse_args()
    requests = max(1, min(args.requests, 5000))
    for row in asyncio.run(run(args.backend, requests, args.profile)):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
