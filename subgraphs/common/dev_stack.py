"""`kyodo dev`: run the four subgraphs, the dev IdP and the gateway as child processes on 127.0.0.1.

Each component is `python -m kyodo …` in its own process group, started in dependency order and awaited on
its health URL: subgraphs (4101–4104) first, then the dev IdP (4400), then the gateway (4000), which
composes the supergraph from the running subgraphs. A component whose code is not there yet is skipped
with a message. Ctrl-C or SIGTERM stops every child (SIGTERM, then SIGKILL after a grace period), and so
does any child dying on its own. Before anything starts, every port must be free: a port that answers is
most likely another `kyodo dev`, and starting beside it would only look ready (the old stack answers).
Its files (generated gateway settings, context-signing key) live under <KYODO_HOME>/var (kyodo/home.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

SUBGRAPH_PORTS = {"childcare": 4101, "safety": 4102, "currency": 4103, "identity": 4104}
SUBGRAPHS_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 90.0
RELAY_EVERY_SECONDS = 15.0   # identity's completed applications reach currency within this
STOP_GRACE_SECONDS = 10.0
DEV_AUDIENCE = "urn:kyodo:gateway"


@dataclass
class DevPorts:
    gateway: int = 4000
    idp: int = 4400
    subgraphs: dict[str, int] = field(default_factory=lambda: dict(SUBGRAPH_PORTS))

    def named(self) -> dict[str, int]:
        return {"gateway": self.gateway, "idp": self.idp, **self.subgraphs}

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DevPorts:
        ports = cls(gateway=args.gateway_port, idp=args.idp_port)
        for item in args.subgraph_port:
            name, _, port = item.partition("=")
            if name not in ports.subgraphs or not port.isdigit():
                raise SystemExit(f"kyodo dev: --subgraph-port expects NAME=PORT with NAME in {', '.join(SUBGRAPH_PORTS)}")
            ports.subgraphs[name] = int(port)
        return ports


def port_in_use(host: str, port: int) -> bool:
    """True if something already listens on host:port (a connect succeeds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def busy_ports_message(host: str, ports: DevPorts, *, with_gateway: bool = True, with_idp: bool = True) -> str | None:
    """None if every port the stack needs is free, else what to do about the taken ones."""
    wanted = ports.named()
    if not with_gateway:
        wanted.pop("gateway")
    if not with_idp:
        wanted.pop("idp")
    taken = [f"{name} {port}" for name, port in wanted.items() if port_in_use(host, port)]
    if not taken:
        return None
    return (f"kyodo dev: port{'s' if len(taken) > 1 else ''} already in use on {host}: {', '.join(taken)}. "
            "Another kyodo dev (or another program) is running: stop it first (Ctrl-C in its terminal), "
            "or choose other ports with --gateway-port, --idp-port and --subgraph-port NAME=PORT.")


def module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    url: str


class DevStack:
    def __init__(self, *, host: str = "127.0.0.1", ports: DevPorts | None = None, with_gateway: bool = True,
                 with_idp: bool = True, state_dir: str | Path | None = None) -> None:
        from kyodo.home import var_dir

        self.host = host
        self.ports = ports or DevPorts()
        self.with_gateway = with_gateway
        self.with_idp = with_idp
        self.state_dir = Path(state_dir).resolve() if state_dir else var_dir() / "dev"
        self.children: list[Child] = []
        self.stopping = threading.Event()
        self.env = dict(os.environ)
        self.subgraph_urls: dict[str, str] = {}
        self.idp_running = False
        self.context_key_file = var_dir() / "gateway-context-key.json"

    # -- lifecycle --------------------------------------------------------------------------------------

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if not self._start_all():
                return 1
            self._print_summary()
            return self._supervise()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, _signum: int, _frame: object) -> None:
        self.stopping.set()

    def _supervise(self) -> int:
        while not self.stopping.wait(0.5):
            for child in self.children:
                if child.process.poll() is not None:
                    print(f"kyodo dev: {child.name} exited with status {child.process.returncode}; stopping everything",
                          file=sys.stderr, flush=True)
                    return 1
        print("kyodo dev: stopping", flush=True)
        return 0

    def stop(self) -> None:
        """SIGTERM each child's process group, wait, then SIGKILL what is left."""
        for child in reversed(self.children):
            if child.process.poll() is None:
                try:
                    os.killpg(child.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(child.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.process.wait()
        self.children.clear()

    # -- components -------------------------------------------------------------------------------------

    def _start_all(self) -> bool:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_context_keys()
        issuer = f"http://{self.host}:{self.ports.idp}"
        if self.with_idp:
            # the grant relay calls identity's outbox operations directly, with its dev IdP token
            self.env.setdefault("KYODO_SERVICE_ISSUER", json.dumps({"issuer": issuer, "audience": DEV_AUDIENCE}))
        started: dict[str, str] = {}
        for name, port in self.ports.subgraphs.items():
            if not (SUBGRAPHS_DIR / name / "app.py").exists():
                print(f"kyodo dev: subgraph {name} has no app yet (subgraphs/{name}/app.py); skipped", flush=True)
                continue
            base = f"http://{self.host}:{port}"
            if not self._start(name, ["subgraph", name, "--host", self.host, "--port", str(port)],
                               f"{base}/health", f"{base}/graphql"):
                return False
            started[name] = f"{base}/graphql"
        self.subgraph_urls = started
        if self.with_idp:
            if module_available("auth.idp.app"):
                self.idp_running = self._start("idp", ["idp", "--host", self.host, "--port", str(self.ports.idp),
                                                       "--issuer", issuer, "--audience", DEV_AUDIENCE],
                                               f"{issuer}/.well-known/openid-configuration", issuer)
                if not self.idp_running:
                    return False
            else:
                print("kyodo dev: the dev IdP (auth.idp.app) is not there yet; skipped", flush=True)
        if self.with_gateway:
            if not (module_available("gateway.composition") and module_available("gateway.http.command")):
                print("kyodo dev: the gateway (gateway.composition, gateway.http) is not there yet; skipped", flush=True)
            elif not started:
                print("kyodo dev: no subgraph is running, so no gateway", flush=True)
            else:
                config, settings = self._write_gateway_files(issuer if self.idp_running else None)
                base = f"http://{self.host}:{self.ports.gateway}"
                if not self._start("gateway", ["serve", "--subgraphs", str(config), "--config", str(settings),
                                               "--host", self.host, "--port", str(self.ports.gateway)],
                                   f"{base}/health", f"{base}/graphql"):
                    return False
                if self.idp_running:
                    self._start_relay(f"{base}/graphql", issuer)
        return True

    def _start_relay(self, gateway_url: str, issuer: str) -> None:
        """The currency grant relay, one round every RELAY_EVERY_SECONDS: identity's outbox directly, currency's
        grant through the gateway."""
        identity = ["--identity", self.subgraph_urls["identity"]] if "identity" in self.subgraph_urls else []
        process = subprocess.Popen([sys.executable, "-m", "kyodo", "relay", "grants", "--gateway", gateway_url,
                                    *identity, "--issuer", issuer, "--every", str(RELAY_EVERY_SECONDS)],
                                   env=self.env, start_new_session=True)
        self.children.append(Child("relay", process, f"grants every {RELAY_EVERY_SECONDS:g} s"))

    def _prepare_context_keys(self) -> None:
        """Create the gateway's context-token key before anything starts, and point the subgraphs at its JWKS."""
        if not module_available("auth.gateway_keys"):
            return
        from auth.gateway_keys import load_or_create_signing_key, public_jwks_path_for

        load_or_create_signing_key(self.context_key_file)
        self.env.setdefault("KYODO_GATEWAY_JWKS", str(public_jwks_path_for(self.context_key_file)))

    def _write_gateway_files(self, issuer: str | None) -> tuple[Path, Path]:
        config = self.state_dir / "subgraphs.json"
        config.write_text(json.dumps([{"name": n, "url": u} for n, u in self.subgraph_urls.items()], indent=2))
        lines = ["# written by `kyodo dev`",
                 # `Apollo-Expose-Query-Plan: true` returns the plan in extensions (the playground shows it).
                 "expose_query_plan = true", "",
                 "[auth]", f"context_key_file = {json.dumps(str(self.context_key_file))}"]
        if issuer:
            lines += ["", "[[auth.issuers]]", f"issuer = {json.dumps(issuer)}", f"audience = {json.dumps(DEV_AUDIENCE)}",
                      # a sign-in revoked at the dev IdP (sign-out, refresh-token reuse) ends at the gateway too
                      "[auth.issuers.introspection]", f"endpoint = {json.dumps(issuer + '/introspect')}",
                      "check_seconds = 10"]
            self.env.setdefault("KYODO_GATEWAY_INTROSPECTION_SECRET",
                                os.environ.get("KYODO_IDP_GATEWAY_SECRET", "kyodo-gateway-dev-secret"))
        else:
            # No dev IdP: the gateway must be told explicitly that it serves open data only.
            lines.insert(2, "anonymous_only = true")
        settings = self.state_dir / "gateway.toml"
        settings.write_text("\n".join(lines) + "\n")
        return config, settings

    def _start(self, name: str, kyodo_args: list[str], ready_url: str, public_url: str) -> bool:
        process = subprocess.Popen([sys.executable, "-m", "kyodo", *kyodo_args], env=self.env,
                                   start_new_session=True)   # own group: stopped as a whole, by its pid
        child = Child(name, process, public_url)
        self.children.append(child)
        if self._wait_ready(child, ready_url):
            return True
        if not self.stopping.is_set():
            print(f"kyodo dev: {name} did not become ready at {ready_url}", file=sys.stderr, flush=True)
        return False

    def _wait_ready(self, child: Child, url: str) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not self.stopping.is_set():
            if child.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own child
                    if response.status < 500:
                        return True
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        return False

    def _print_summary(self) -> None:
        print("kyodo dev: ready", flush=True)
        for child in self.children:
            print(f"  {child.name:<10} {child.url}", flush=True)
        print("Ctrl-C stops everything.", flush=True)
