"""One bounded wrk run (POST bodies from a file, via post.lua) and its parsed summary."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("post.lua")


@dataclass(frozen=True)
class LoadResult:
    connections: int
    seconds: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    mb_per_s: float

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def run_wrk(url: str, body_file: Path, connections: int, seconds: int, threads: int = 2,
            cpu: str | None = None) -> LoadResult:
    command = (["taskset", "-c", cpu] if cpu else []) + ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(LUA_SCRIPT), url]
    env = dict(os.environ, BENCH_BODY_FILE=str(body_file))
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in done.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    summary = json.loads(line.removeprefix("BENCH_JSON "))
    duration_s = summary["duration_us"] / 1e6
    latency = summary["latency_us"]
    return LoadResult(
        connections=connections, seconds=round(duration_s, 2), requests=summary["requests"],
        requests_per_s=round(summary["requests"] / duration_s, 1),
        p50_ms=latency["p50"] / 1000, p90_ms=latency["p90"] / 1000, p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000, errors=summary["errors"],
        mb_per_s=round(summary["bytes"] / duration_s / 1e6, 1),
    )
