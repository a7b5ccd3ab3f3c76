"""Read a subgraph list (TOML or JSON), fetch SDLs that are not given, and compose.

Accepted shapes:
    JSON  [{"name": "a", "url": "http://…", "sdl": "type Query …"}]        (the audit's subgraphs.json)
    JSON  {"subgraphs": [{"name": "a", "url": "…", "sdl_file": "a.graphql"}]}
    TOML  [[subgraphs]]  name = "a"  url = "…"  sdl_file = "a.graphql"
    TOML  [subgraphs.a]  url = "…"  sdl_file = "a.graphql"
`sdl` is SDL text; `sdl_file` (or `file`, `schema`) is a path, relative to the config file. Without either,
the SDL is fetched from `url` with the federation query `{ _service { sdl } }`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import tomllib
from pathlib import Path
from typing import Any

import aiohttp

from gateway.composition.compose import compose
from gateway.composition.errors import CompositionError
from gateway.composition.source import SubgraphSource

SERVICE_QUERY = "{ _service { sdl } }"
FETCH_TIMEOUT_SECONDS = 10
FILE_KEYS = ("sdl_file", "file", "schema")


class SubgraphEntry:
    """One configured subgraph before its SDL is known."""

    def __init__(self, name: str, url: str, sdl: str | None) -> None:
        self.name = name
        self.url = url
        self.sdl = sdl


def read_config(path: str) -> list[SubgraphEntry]:
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError as err:
        raise CompositionError([f"Cannot read the subgraph config {path}: {err.strerror}"]) from None
    try:
        data: Any = tomllib.loads(text) if config_path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        raise CompositionError([f"The subgraph config {path} does not parse: {err}"]) from None
    raw = data.get("subgraphs") if isinstance(data, dict) else data
    if isinstance(raw, dict):
        raw = [{"name": name, **(entry if isinstance(entry, dict) else {})} for name, entry in raw.items()]
    if not isinstance(raw, list) or not raw:
        raise CompositionError([f"The subgraph config {path} lists no subgraphs (expected a list of {{name, url}})."])
    return [_entry(item, config_path.parent, path) for item in raw]


def _entry(item: Any, base: Path, path: str) -> SubgraphEntry:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise CompositionError([f"Every subgraph in {path} needs a string `name`; got {item!r}."])
    name = item["name"]
    url = item.get("url") or item.get("routing_url") or ""
    sdl = item.get("sdl")
    for key in FILE_KEYS:
        if isinstance(item.get(key), str):
            sdl = read_sdl_file(name, str(base / item[key]))
    if sdl is None and not url:
        raise CompositionError([f'[{name}] The subgraph needs a `url` to fetch its SDL from, or an `sdl_file`.'])
    return SubgraphEntry(name, url, sdl)


def read_sdl_file(name: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise CompositionError([f"[{name}] Cannot read the SDL file {path}: {err.strerror}"]) from None


async def fetch_sdl(session: aiohttp.ClientSession, name: str, url: str) -> str:
    """Ask a running subgraph for its SDL; any failure becomes a message naming the subgraph and URL."""
    try:
        async with session.post(url, json={"query": SERVICE_QUERY},
                                headers={"Accept": "application/json"}) as response:
            if response.status != 200:
                raise CompositionError([f"[{name}] Fetching the SDL from {url} returned HTTP {response.status}."])
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
        reason = str(err) or type(err).__name__
        raise CompositionError([f"[{name}] Cannot fetch the SDL from {url}: {reason}"]) from None
    sdl = ((body or {}).get("data") or {}).get("_service", {}) if isinstance(body, dict) else None
    sdl = sdl.get("sdl") if isinstance(sdl, dict) else None
    if not isinstance(sdl, str):
        errors = body.get("errors") if isinstance(body, dict) else None
        raise CompositionError([f"[{name}] {url} did not answer {{ _service {{ sdl }} }} with an SDL"
                                + (f": {errors}" if errors else ".")])
    return sdl


async def resolve_sources(entries: list[SubgraphEntry]) -> list[SubgraphSource]:
    missing = [e for e in entries if e.sdl is None]
    if missing:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            results = await asyncio.gather(*(fetch_sdl(session, e.name, e.url) for e in missing),
                                           return_exceptions=True)
        errors: list[str] = []
        for entry, result in zip(missing, results):
            if isinstance(result, CompositionError):
                errors += result.errors
            elif isinstance(result, BaseException):
                raise result
            else:
                entry.sdl = result
        if errors:
            raise CompositionError(errors)
    return [SubgraphSource(e.name, e.url, e.sdl or "") for e in entries]


async def compose_entries(entries: list[SubgraphEntry]) -> str:
    return compose(await resolve_sources(entries))


def run_sync(entries: list[SubgraphEntry]) -> str:
    """Run the async fetch+compose from sync code, also when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(compose_entries(entries))
    outcome: dict[str, Any] = {}

    def worker() -> None:
        try:
            outcome["sdl"] = asyncio.run(compose_entries(entries))
        except BaseException as err:  # handed back to the caller's thread
            outcome["error"] = err

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["sdl"]


async def compose_from_config_async(path: str) -> str:
    """The same, for callers inside an event loop (never blocks the loop while fetching)."""
    return await compose_entries(read_config(path))


def compose_from_config(path: str) -> str:
    """Compose the subgraphs a TOML/JSON config lists (fetching SDLs over HTTP where needed)."""
    return run_sync(read_config(path))
