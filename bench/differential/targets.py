"""The supergraphs the differential test runs over, each with its subgraphs already serving.

- `municipal`: the engine tests' four municipal subgraphs (tests/federation/municipal_kit.py), served by
  engine_kit's Starlette app in a thread of this process on an ephemeral port.
- every suite of the public federation gateway audit: the audit's own subgraph server (started from a
  checkout prepared by bench/audit/prepare_checkout.sh, on a free port) serves the subgraphs, and its
  `/<suite>/supergraph` names them; the suite's fixed test queries seed the argument values.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Target:
    name: str
    supergraph_sdl: str
    examples: list[str] = field(default_factory=list)  # operations whose argument values seed the generator


@contextmanager
def municipal_target() -> Iterator[Target]:
    sys.path.insert(0, str(REPO_ROOT / "tests" / "federation"))
    from engine_kit import serve, supergraph_sdl  # type: ignore[import-not-found]
    from municipal_kit import MUNICIPAL_SUPERGRAPH, municipal_subgraphs  # type: ignore[import-not-found]

    loop = asyncio.new_event_loop()
    ready: dict[str, str] = {}
    started = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with serve(municipal_subgraphs()) as urls:
            ready.update(urls)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    if not started.wait(30):
        raise RuntimeError("the municipal subgraphs did not start within 30 s")
    try:
        graphs = {name.upper(): url for name, url in ready.items()}
        yield Target("municipal", supergraph_sdl(graphs, MUNICIPAL_SUPERGRAPH))
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(15)


def audit_target(server: object, suite: str) -> Target:
    from bench.audit.audit_server import AuditServer

    assert isinstance(server, AuditServer)
    return Target(suite, server.supergraph(suite), [case.query for case in server.cases(suite)])
