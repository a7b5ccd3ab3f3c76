"""The whole stack for the disaster-evening model, as separate processes on 127.0.0.1.

Four subgraphs on PostgreSQL (one throwaway database each, migrated and seeded by `kyodo seed`), the dev
IdP, and `kyodo serve --workers N` composing the supergraph from the running subgraphs — the production
shape on one machine. Every process runs in its own process group and is stopped by it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.federation.services import Service, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
KYODO = [sys.executable, "-m", "kyodo"]
SUBGRAPHS = ("childcare", "safety", "currency", "identity")
AUDIENCE = "urn:kyodo:gateway"


@dataclass
class DisasterStack:
    work: Path
    postgres_url: str                      # postgresql+asyncpg://user@host:port/  (no database)
    gateway_workers: int = 2
    gateway_config_extra: str = ""        # more gateway.toml, e.g. a [traffic] table to compare settings
    services: dict[str, Service] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.urls["idp"]

    @property
    def gateway(self) -> str:
        return self.urls["gateway"]

    def database_name(self, name: str) -> str:
        return f"kyodo_disaster_{name}"

    async def _recreate_databases(self) -> None:
        import asyncpg

        dsn = self.postgres_url.replace("postgresql+asyncpg://", "postgresql://").rstrip("/") + "/postgres"
        connection = await asyncpg.connect(dsn)
        try:
            for name in SUBGRAPHS:
                database = self.database_name(name)
                await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                await connection.execute(f'CREATE DATABASE "{database}"')
                self.database_urls[name] = self.postgres_url.rstrip("/") + f"/{database}"
        finally:
            await connection.close()

    async def drop_databases(self) -> None:
        import asyncpg

        dsn = self.postgres_url.replace("postgresql+asyncpg://", "postgresql://").rstrip("/") + "/postgres"
        connection = await asyncpg.connect(dsn)
        try:
            for name in SUBGRAPHS:
                await connection.execute(f'DROP DATABASE IF EXISTS "{self.database_name(name)}" WITH (FORCE)')
        finally:
            await connection.close()

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
        env.update({f"KYODO_{name.upper()}_DATABASE_URL": url for name, url in self.database_urls.items()})
        env["KYODO_GATEWAY_JWKS"] = str(self.work / "gateway-context-key.jwks.json")
        env["KYODO_HOME"] = str(self.work)
        return env

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        logs = self.work / "logs"
        logs.mkdir(exist_ok=True)
        asyncio.run(self._recreate_databases())
        env = self._env()
        with (logs / "seed.log").open("wb") as seed_log:
            subprocess.run([*KYODO, "seed", *SUBGRAPHS], cwd=self.work, env=env, check=True, timeout=300,
                           stdout=seed_log, stderr=subprocess.STDOUT)
        # The gateway's context-token key first, so the subgraphs can be pointed at its public JWKS.
        from auth.gateway_keys import load_or_create_signing_key, public_jwks_path_for

        key_file = self.work / "gateway-context-key.json"
        load_or_create_signing_key(key_file)
        env["KYODO_GATEWAY_JWKS"] = str(public_jwks_path_for(key_file))
        for name in SUBGRAPHS:
            port = free_port()
            self.services[name] = Service(name, [*KYODO, "subgraph", name, "--host", "127.0.0.1", "--port", str(port)],
                                          logs, cwd=self.work, env=env)
            self.urls[name] = f"http://127.0.0.1:{port}/graphql"
        for name in SUBGRAPHS:
            self.services[name].wait_graphql(self.urls[name], timeout=120)
        idp_port = free_port()
        self.urls["idp"] = f"http://127.0.0.1:{idp_port}"
        self.services["idp"] = Service("idp", [*KYODO, "idp", "--host", "127.0.0.1", "--port", str(idp_port),
                                               "--issuer", self.urls["idp"], "--audience", AUDIENCE,
                                               "--state-dir", str(self.work / "idp")], logs, cwd=self.work, env=env)
        _wait_http(self.services["idp"], f"{self.urls['idp']}/.well-known/openid-configuration")
        subgraphs_file = self.work / "subgraphs.json"
        subgraphs_file.write_text(json.dumps([{"name": n, "url": self.urls[n]} for n in SUBGRAPHS], indent=2))
        settings = self.work / "gateway.toml"
        settings.write_text("\n".join([
            "[auth]", f"context_key_file = {json.dumps(str(key_file))}", "",
            "[[auth.issuers]]", f"issuer = {json.dumps(self.urls['idp'])}", f"audience = {json.dumps(AUDIENCE)}",
            "", self.gateway_config_extra]) + "\n")
        gateway_port = free_port()
        self.urls["gateway"] = f"http://127.0.0.1:{gateway_port}/graphql"
        self.services["gateway"] = Service("gateway", [*KYODO, "serve", "--subgraphs", str(subgraphs_file),
                                                       "--config", str(settings), "--host", "127.0.0.1",
                                                       "--port", str(gateway_port),
                                                       "--workers", str(self.gateway_workers)],
                                           logs, cwd=self.work, env=env)
        self.services["gateway"].wait_graphql(self.urls["gateway"], timeout=120)

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.services.clear()

    def pids(self) -> dict[str, int]:
        return {name: service.pid for name, service in self.services.items()}


def _wait_http(service: Service, url: str, timeout: float = 60.0) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited; see {service.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} did not answer {url}; see {service.log_path}")
