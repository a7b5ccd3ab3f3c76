"""The compose stack (docker/compose.yaml) run as local processes, without docker.

Each service is started from compose.yaml's own `command` and `environment`, with compose's `${…}` variables
filled from generated secrets and the service names (postgres, redis, childcare, …, keycloak) pointed at
127.0.0.1 and free ports; the gateways read docker/config/*.toml and nginx docker/nginx/nginx.conf, rewritten
the same way. So what is checked here is the deployment's configuration, not a copy of it.

- PostgreSQL: a private cluster (initdb, in a temporary directory), set up by docker/postgres/init-roles.sh
  exactly as the postgres image's entrypoint runs it: one login role per platform, password-checked on TCP;
- Redis with compose's arguments (password, no persistence);
- the `seed` job (migrations + demo roster) and the `context-key` job;
- the four subgraphs, two `kyodo serve` replicas (one worker each here, two in compose), nginx in front;
- the identity provider is the caller's: anything that serves `/realms/kyodo` (Keycloak, or a stand-in).

Deviations from compose, all for one small machine: gateways run one worker each; nginx runs one worker (so
its round robin alternates exactly) and with loopback temp paths; containers' read-only/capability settings
do not apply to local processes.

Every process is started in its own session and stopped by its pid (SIGTERM, then SIGKILL after a bound).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auth.gateway_keys import load_or_create_signing_key, public_jwks_path_for
from deploy.free_port import free_port

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
SUBGRAPHS = ("childcare", "safety", "currency", "identity")
SUBGRAPH_PORTS = {"childcare": 4101, "safety": 4102, "currency": 4103, "identity": 4104}
START_BOUND_SECONDS = 90
log = logging.getLogger("kyodo.deploy.topology")
STOP_BOUND_SECONDS = 15


class TopologyError(RuntimeError):
    """A piece of the topology did not start; the message says which and shows its last output."""




def generated_secrets() -> dict[str, str]:
    """A fresh value for every variable docker/env.example lists (what an operator puts in docker/.env)."""
    values: dict[str, str] = {}
    for line in (DOCKER / "env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name = line.split("=", 1)[0].strip()
            if name.endswith(("_PASSWORD", "_SECRET")):
                values[name] = secrets.token_urlsafe(18)
    return values


_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable syntax: ${VAR}, ${VAR:-default}, ${VAR:?error}, $$ for a literal $."""
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if operator and operator.endswith("-") and not value:
            return argument
        if operator and operator.endswith("?") and not value:
            raise TopologyError(f"{name}: {argument}")
        return value or ""
    return _VARIABLE.sub(one, text)


def compose_services(env: dict[str, str]) -> dict[str, Any]:
    """docker/compose.yaml's services with anchors merged and variables filled in."""
    document = yaml.safe_load((DOCKER / "compose.yaml").read_text())

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return interpolate(value, env)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value
    return fill(document["services"])


@dataclass
class Ports:
    postgres: int = field(default_factory=free_port)
    redis: int = field(default_factory=free_port)
    nginx: int = field(default_factory=free_port)
    gateways: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))
    subgraphs: dict[str, int] = field(default_factory=lambda: {name: free_port() for name in SUBGRAPHS})

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx}"


@dataclass
class Topology:
    """What a running topology offers its checks."""

    public_url: str                 # nginx: /graphql, /contracts/…, /realms/kyodo
    gateway_urls: tuple[str, str]   # each replica directly
    subgraph_urls: dict[str, str]
    redis_url: str
    gateway_config: Path            # the rewritten docker/config/gateway.toml both replicas read
    env: dict[str, str]             # compose's variables (the generated secrets)
    processes: dict[str, subprocess.Popen[bytes]]
    work: Path
    services: dict[str, Any]        # compose's services, variables filled in
    replace: dict[str, str]         # compose's host names -> this topology's loopback addresses

    def run_once(self, service: str) -> subprocess.CompletedProcess[str]:
        """One round of a looping compose service (its `--every N` left out), e.g. the grant relay."""
        spec = self.services[service]
        argv = _command(spec, self.replace)
        if "--every" in argv:
            at = argv.index("--every")
            del argv[at:at + 2]
        return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=120,
                              env={**os.environ, **_service_env(spec, self.replace)})

    @property
    def issuer(self) -> str:
        return self.public_url + "/realms/kyodo"

    def kyodo(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run a `kyodo` command the way an operator would beside this stack."""
        return subprocess.run([str(_kyodo()), *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                              env={**os.environ, **(extra_env or {})})


def _kyodo() -> Path:
    found = Path(sys.executable).parent / "kyodo"
    if not found.exists():
        raise TopologyError(f"no kyodo command beside {sys.executable} (make install)")
    return found


def _tool(name: str, *candidates: str) -> str:
    found = shutil.which(name) or next((c for c in candidates if Path(c).exists()), None)
    if found is None:
        raise TopologyError(f"{name} is not installed")
    return found


def _postgres_bin(name: str) -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if versions:
        return str(versions[-1])
    return _tool(name)


class Processes:
    """Started processes, stopped in reverse order by pid."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd or REPO,
                                   start_new_session=True)
        log.close()
        self.running[name] = process
        return process

    def tail(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.stop(name)

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                # postgres: SIGINT is its fast shutdown; everything else stops on SIGTERM
                os.killpg(process.pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
            try:
                process.wait(timeout=STOP_BOUND_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _timed(what: str, since: float) -> None:
    log.info("topology: %s after %.1f s", what, time.monotonic() - since)


def wait_until(check: Any, what: str, processes: Processes, names: list[str],
               bound: float = START_BOUND_SECONDS) -> None:
    deadline = time.monotonic() + bound
    while True:
        for name in names:
            process = processes.running[name]
            if process.poll() is not None:
                raise TopologyError(f"{name} exited ({process.returncode}):\n{processes.tail(name)}")
        with contextlib.suppress(OSError):
            if check():
                return
        if time.monotonic() > deadline:
            raise TopologyError(f"{what} not ready in {bound:.0f} s:\n"
                                + "\n".join(processes.tail(n) for n in names))
        time.sleep(0.2)


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return bool(response.status == 200)


def _tcp_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _as_postgres_user(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the distribution's `postgres` account runs it then.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def start_postgres(processes: Processes, work: Path, port: int, env: dict[str, str]) -> None:
    data, sockets = work / "pgdata", work / "pgsocket"
    if os.geteuid() == 0:
        work.chmod(0o711)    # the postgres account passes through to its own directories
    for directory in (data, sockets):
        directory.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
    init = subprocess.run(_as_postgres_user([
        _postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-sync",
        # the superuser on the local socket only; every TCP login proves its password (as in the image)
        "--auth-local=trust", "--auth-host=scram-sha-256"]), capture_output=True, text=True, timeout=120)
    if init.returncode != 0:
        raise TopologyError(f"initdb failed: {init.stderr[-2000:]}")
    processes.start("postgres", _as_postgres_user([
        _postgres_bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(sockets),
        "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        "-c", "max_connections=200", "-c", "shared_buffers=32MB"]))
    wait_until(lambda: subprocess.run([_postgres_bin("pg_isready"), "-h", str(sockets), "-p", str(port)],
                                      capture_output=True).returncode == 0, "postgres", processes, ["postgres"])
    # docker/postgres/init-roles.sh, run the way the image's entrypoint runs it (as the superuser, on the socket)
    roles = subprocess.run(["sh", str(DOCKER / "postgres" / "init-roles.sh")], capture_output=True, text=True,
                           timeout=300, env={**os.environ, **env, "POSTGRES_USER": "postgres",
                                             "PGHOST": str(sockets), "PGPORT": str(port)})
    if roles.returncode != 0:
        raise TopologyError(f"init-roles.sh failed: {roles.stderr[-2000:]}")


def _service_env(service: dict[str, Any], replace: dict[str, str]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: _rewrite(str(value), replace) for key, value in environment.items()}


def _rewrite(text: str, replace: dict[str, str]) -> str:
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def _command(service: dict[str, Any], replace: dict[str, str], port: int | None = None) -> list[str]:
    argv = [_rewrite(str(part), replace) for part in service["command"]]
    if argv[0] == "kyodo":
        argv[0] = str(_kyodo())
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port) if port else None), ("--workers", "1")):
        if flag in argv and value is not None:
            argv[argv.index(flag) + 1] = value
    return argv


def nginx_conf(work: Path, ports: Ports, idp_port: int) -> Path:
    """docker/nginx/nginx.conf with the service names pointed at loopback ports."""
    conf = (DOCKER / "nginx" / "nginx.conf").read_text()
    for index, gateway in enumerate(ports.gateways, start=1):
        conf = conf.replace(f"gateway-{index}:4000", f"127.0.0.1:{gateway}")
    conf = conf.replace("keycloak:8080", f"127.0.0.1:{idp_port}")
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{ports.nginx};")
    conf = conf.replace("pid /tmp/nginx.pid;", f"pid {work / 'nginx.pid'};")
    conf = conf.replace("access_log /dev/stdout;", "access_log off;")
    conf = conf.replace("worker_processes auto;", "worker_processes 1;")
    # which replica answered, for the checks (a header added here only, never in the shipped config)
    conf = conf.replace("location / {", "location / {\n            add_header X-Kyodo-Upstream $upstream_addr always;")
    if "gateway-" in conf or "keycloak:" in conf:
        raise TopologyError("nginx.conf names a service this runner does not know")
    for temp in ("client_body", "proxy"):
        (work / temp).mkdir(exist_ok=True)
    conf = conf.replace("http {", f"http {{\n    client_body_temp_path {work / 'client_body'};\n"
                                  f"    proxy_temp_path {work / 'proxy'};", 1)
    path = work / "nginx.conf"
    path.write_text(conf)
    return path


@contextlib.contextmanager
def running_topology(idp_port: int, ports: Ports, env: dict[str, str],
                     gateway_env: dict[str, str] | None = None,
                     work: Path | None = None) -> Iterator[Topology]:
    """Start everything but the identity provider (which already listens on `idp_port` and serves
    `/realms/kyodo` under `ports.public_url`); yield the running topology; stop it all.

    `gateway_env`: extra `KYODO__*` overrides for both replicas (e.g. a small rate-limit bucket)."""
    owned = work is None
    env = {**env, "KYODO_PUBLIC_URL": ports.public_url}
    work = Path(tempfile.mkdtemp(prefix="kyodo-topology-")) if work is None else work
    (work / "logs").mkdir(exist_ok=True)
    processes = Processes(work / "logs")
    services = compose_services(env)
    replace = {"@postgres:5432/": f"@127.0.0.1:{ports.postgres}/", "//postgres:5432/": f"//127.0.0.1:{ports.postgres}/",
               "redis:6379": f"127.0.0.1:{ports.redis}",
               "http://keycloak:8080": f"http://127.0.0.1:{idp_port}",
               "http://127.0.0.1:4000": ports.public_url, "http://nginx:8080": ports.public_url,
               "/jwks/": f"{work / 'jwks'}/", "/keys/": f"{work / 'keys'}/", "/config/": f"{work / 'config'}/"}
    for name in SUBGRAPHS:
        replace[f"http://{name}:{SUBGRAPH_PORTS[name]}"] = f"http://127.0.0.1:{ports.subgraphs[name]}"
        replace[f"http://127.0.0.1:{SUBGRAPH_PORTS[name]}"] = f"http://127.0.0.1:{ports.subgraphs[name]}"
    began = time.monotonic()
    try:
        start_postgres(processes, work, ports.postgres, env)
        _timed("postgres and its roles", began)

        redis = services["redis"]
        processes.start("redis", [_tool("redis-server"), *redis["command"][1:], "--port", str(ports.redis),
                                  "--bind", "127.0.0.1", "--dir", str(work)])
        wait_until(lambda: _tcp_open(ports.redis), "redis", processes, ["redis"])

        # the one-shot jobs: the context-signing key, then migrations + demo roster (compose's `seed`)
        for directory in ("keys", "jwks", "config"):
            (work / directory).mkdir(exist_ok=True)
        key = work / "keys" / "gateway-context-key.json"
        load_or_create_signing_key(key)
        shutil.copyfile(public_jwks_path_for(key), work / "jwks" / "gateway-context-jwks.json")
        seed = services["seed"]
        job = subprocess.run(_command(seed, replace), capture_output=True, text=True, timeout=300, cwd=REPO,
                             env={**os.environ, **_service_env(seed, replace)})
        if job.returncode != 0:
            raise TopologyError(f"seed job failed:\n{job.stdout[-2000:]}\n{job.stderr[-2000:]}")
        _timed("redis, keys, seed", began)

        for name in SUBGRAPHS:
            service = services[name]
            processes.start(name, _command(service, replace, ports.subgraphs[name]),
                            env={**os.environ, **_service_env(service, replace)})
        for name in SUBGRAPHS:
            wait_until(lambda n=name: _http_ok(f"http://127.0.0.1:{ports.subgraphs[n]}/health"), name,  # type: ignore[misc]
                       processes, [name])

        for name in ("gateway.toml", "subgraphs.toml"):
            (work / "config" / name).write_text(_rewrite((DOCKER / "config" / name).read_text(), replace))
        _timed("subgraphs", began)
        for index, port in enumerate(ports.gateways, start=1):
            service = services[f"gateway-{index}"]
            processes.start(f"gateway-{index}", _command(service, replace, port),
                            env={**os.environ, **_service_env(service, replace), **(gateway_env or {})})
        for index, port in enumerate(ports.gateways, start=1):
            wait_until(lambda p=port: _http_ok(f"http://127.0.0.1:{p}/health"), f"gateway-{index}",  # type: ignore[misc]
                       processes, [f"gateway-{index}"])

        _timed("gateways", began)
        conf = nginx_conf(work, ports, idp_port)
        nginx = _tool("nginx", "/usr/sbin/nginx")
        test = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(work), "-e", "stderr"],
                              capture_output=True, text=True, timeout=30)
        if test.returncode != 0:
            raise TopologyError(f"nginx -t: {test.stderr}")
        processes.start("nginx", [nginx, "-c", str(conf), "-p", str(work), "-e", "stderr", "-g", "daemon off;"])
        wait_until(lambda: _http_ok(ports.public_url + "/nginx-health"), "nginx", processes, ["nginx"])
        _timed("nginx", began)

        yield Topology(public_url=ports.public_url,
                       gateway_urls=tuple(f"http://127.0.0.1:{p}" for p in ports.gateways),  # type: ignore[arg-type]
                       subgraph_urls={n: f"http://127.0.0.1:{p}/graphql" for n, p in ports.subgraphs.items()},
                       redis_url=f"redis://:{env['REDIS_PASSWORD']}@127.0.0.1:{ports.redis}/0",
                       gateway_config=work / "config" / "gateway.toml", env=env,
                       processes=dict(processes.running), work=work, services=services, replace=replace)
    finally:
        processes.stop_all()
        if owned:
            shutil.rmtree(work, ignore_errors=True)
