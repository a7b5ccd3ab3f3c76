"""`kyodo relay grants`: one relay round, or (with --every) a round every N seconds until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from .relay import relay_once
from .settings import RelaySettings


async def _loop(settings: RelaySettings, every: float) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        report = await relay_once(settings)
        if report.lines or report.error:   # quiet when there was nothing to do
            print(report.summary(), file=sys.stderr if report.error else sys.stdout, flush=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
    return 0


def run(settings: RelaySettings, every: float | None) -> int:
    if every:
        return asyncio.run(_loop(settings, every))
    report = asyncio.run(relay_once(settings))
    print(report.summary(), file=sys.stdout if report.error is None else sys.stderr)
    return 0 if report.ok else 1
