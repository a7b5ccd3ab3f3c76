"""The anchor gateways the benchmark loads beside kyodo, each started from its npm package.

- Apollo Gateway (`apollo_gateway.mjs`): no cross-request deduplication exists in it.
- Hive Gateway (`@graphql-hive/gateway`), with its defaults, which merge identical in-flight subgraph
  requests, and with that merging turned off (`deduplicateInflightRequests: false` on the HTTP transport).
- Grafbase's gateway as the Grafbase CLI 0.80.4 runs it (`grafbase dev`), with its defaults. Its gateway
  configuration has no in-flight deduplication key (`traffic_shaping` is refused as an unknown field), so
  there is no "merging off" variant to run.

Each is one `Service` (own process group); the config files are written into the run folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bench.federation.services import Service, free_port

HERE = Path(__file__).resolve().parent
BIN = HERE / "node_modules" / ".bin"
# run.sh installs with --ignore-scripts, so the `grafbase` package's postinstall never swaps its
# placeholder for the binary: run the binary of the platform package directly.
GRAFBASE = HERE / "node_modules" / "@grafbase" / "cli-x86_64-unknown-linux-musl" / "grafbase"

# name -> (label, merges identical in-flight requests?)
ANCHORS = {
    "apollo": ("Apollo Gateway", False),
    "hive": ("Hive Gateway", True),
    "hive-nodedup": ("Hive Gateway, merging off", False),
    "grafbase": ("Grafbase (grafbase dev)", True),
}


@dataclass(frozen=True)
class AnchorLaunch:
    name: str
    label: str
    merges: bool
    url: str
    service: Service


def _pinned(command: list[str], cpu: str | None) -> list[str]:
    return ["taskset", "-c", cpu, *command] if cpu else command


def launch(name: str, node: str, supergraph: Path, subgraph_urls: dict[str, str], work: Path, logs: Path,
           cpu: str | None = None) -> AnchorLaunch:
    label, merges = ANCHORS[name]
    port = free_port()
    env = dict(os.environ, NODE_ENV="production", PATH=f"{Path(node).parent}:{os.environ.get('PATH', '')}")
    folder = work / f"anchor-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    if name == "apollo":
        command = [node, str(HERE / "apollo_gateway.mjs"), str(supergraph), str(port)]
        url = f"http://127.0.0.1:{port}/"
    elif name.startswith("hive"):
        options = "" if merges else "transportEntries: { '*.http': { options: { deduplicateInflightRequests: false } } }"
        (folder / "gateway.config.mjs").write_text(f"export const gatewayConfig = {{ {options} }};\n")
        command = [str(BIN / "hive-gateway"), "supergraph", str(supergraph), "--host", "127.0.0.1",
                   "--port", str(port), "--disable-websockets", "-c", str(folder / "gateway.config.mjs")]
        url = f"http://127.0.0.1:{port}/graphql"
    elif name.startswith("grafbase"):
        (folder / "gateway.toml").write_text("")
        (folder / "overrides.toml").write_text("".join(
            f'[subgraphs.{subgraph}]\nintrospection_url = "{url}"\n\n' for subgraph, url in subgraph_urls.items()))
        command = [str(GRAFBASE), "dev", "-c", str(folder / "gateway.toml"), "-o",
                   str(folder / "overrides.toml"), "-p", str(port)]
        url = f"http://127.0.0.1:{port}/graphql"
    else:
        raise ValueError(f"unknown anchor {name!r}; known: {', '.join(ANCHORS)}")
    service = Service(name, _pinned(command, cpu), logs, cwd=folder, env=env)
    return AnchorLaunch(name, label, merges, url, service)
