"""The compose topology with a real Keycloak, without docker: what a city runs to see its stack work end to end.

    JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 \\
        .venv/bin/python -m deploy.keycloak.run_local --dist /opt/keycloak-26.0.7

`--dist` is an unpacked `org.keycloak:keycloak-quarkus-dist` (the zip or tar.gz from Maven Central or
keycloak.org: bin/kc.sh, lib/, conf/), of the version compose.yaml's image names; Java 21 or newer from
JAVA_HOME. The runner starts the local topology (deploy/local_topology.py: PostgreSQL with the roles
docker/postgres/init-roles.sh makes — Keycloak's own database among them —, Redis, the seed job, four subgraphs,
two gateways behind nginx), then Keycloak from the distribution with compose.yaml's keycloak `command` and
`environment` (its database, hostname, proxy headers, health, the realm's `${…}` secrets), importing
docker/keycloak/kyodo-realm.json, served behind the same nginx at /realms/. Then it runs the checks of
deploy/topology_checks.py — the same the pytest topology test runs against the oidc-provider stand-in — and
prints one line per check. Exit 0 when all pass.

It writes the realm into the distribution's data/import/ (Keycloak imports from there) and removes it after.
This runner is not part of pytest: Keycloak's distribution is on Maven only, and Maven cannot be reached from
the machines the tests run on.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deploy import topology_checks as checks
from deploy.local_topology import (
    DOCKER, Ports, Processes, TopologyError, _http_ok, _rewrite, _service_env, free_port, generated_secrets,
    running_topology, wait_until,
)

KEYCLOAK_START_SECONDS = 240    # the first `start` of a distribution builds it first (Quarkus augmentation)
MINIMUM_JAVA = 21


def java_major(java_home: Path) -> int:
    java = java_home / "bin" / "java"
    if not java.exists():
        raise TopologyError(f"no {java}: set JAVA_HOME to a Java {MINIMUM_JAVA}+ installation")
    shown = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=60).stderr
    found = re.search(r'version "(\d+)', shown)
    if not found:
        raise TopologyError(f"cannot read the Java version from: {shown[:200]}")
    return int(found.group(1))


def start_keycloak(processes: Processes, dist: Path, java_home: Path, services: dict[str, Any],
                   replace: dict[str, str], http_port: int) -> int:
    """Keycloak with compose.yaml's keycloak service settings; returns its management port."""
    service = services["keycloak"]
    env = {**os.environ, **_service_env(service, replace),
           "JAVA_HOME": str(java_home), "KC_HTTP_HOST": "127.0.0.1", "KC_HTTP_PORT": str(http_port)}
    management = free_port()
    env["KC_HTTP_MANAGEMENT_PORT"] = str(management)
    imports = dist / "data" / "import"
    imports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DOCKER / "keycloak" / "kyodo-realm.json", imports / "kyodo-realm.json")
    processes.start("keycloak", [str(dist / "bin" / "kc.sh"), *[_rewrite(str(a), replace) for a in service["command"]]],
                    env=env, cwd=dist)
    wait_until(lambda: _http_ok(f"http://127.0.0.1:{management}/health/ready"), "keycloak", processes,
               ["keycloak"], bound=KEYCLOAK_START_SECONDS)
    return management


def all_checks(deployment: checks.Deployment, topology: Any) -> list[tuple[str, Callable[[], Any]]]:
    def relay_round() -> tuple[int, str]:
        done = topology.run_once("grant-relay")
        return done.returncode, done.stdout + done.stderr

    def persisted() -> None:
        token = checks.sign_in(deployment, checks.GUARDIAN.id)
        checks.check_persisted_before_publish(deployment, token)
        manifest = topology.work / "manifest.json"
        manifest.write_text(checks.manifest_json())
        published = topology.kyodo("persisted", "publish", str(manifest), "--config", str(topology.gateway_config),
                                   extra_env={"KYODO__PERSISTED_DOCUMENTS__REDIS_URL": topology.redis_url})
        assert published.returncode == 0, published.stderr
        checks.check_persisted_after_publish(deployment, token)

    return [
        ("a resident's cross-platform query on both replicas", lambda: checks.check_resident_cross_platform(deployment)),
        ("staff read their own municipality's resident", lambda: checks.check_staff_reads_own_municipality(deployment)),
        ("a card reader signs a card in", lambda: checks.check_card_reader_signs_a_card_in(deployment)),
        ("a vendor is confined to its contract path", lambda: checks.check_vendor_confined_to_its_contract(deployment)),
        ("a token from an unknown issuer is refused", lambda: checks.check_unknown_issuer_refused(deployment)),
        ("a public answer cached by one replica is served by the other",
         lambda: checks.check_response_cache_shared(deployment, topology.redis_url)),
        ("the rate limit is shared by both replicas", lambda: checks.check_rate_limit_shared(deployment)),
        ("a persisted document published once is known to both", persisted),
        ("the grant relay: identity directly, currency through the proxy",
         lambda: checks.check_grant_relay(deployment, relay_round)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.keycloak.run_local", description=__doc__.split("\n")[0])
    parser.add_argument("--dist", required=True, type=Path, help="an unpacked keycloak-quarkus-dist (bin/kc.sh)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) after the run")
    args = parser.parse_args(argv)

    java_home = Path(os.environ.get("JAVA_HOME", ""))
    if not (args.dist / "bin" / "kc.sh").exists():
        print(f"run_local: {args.dist} is not an unpacked keycloak-quarkus-dist (no bin/kc.sh)", file=sys.stderr)
        return 2
    try:
        major = java_major(java_home)
    except TopologyError as error:
        print(f"run_local: {error}", file=sys.stderr)
        return 2
    if major < MINIMUM_JAVA:
        print(f"run_local: Keycloak needs Java {MINIMUM_JAVA} or newer; JAVA_HOME has Java {major}", file=sys.stderr)
        return 2

    ports, env, keycloak_port = Ports(), generated_secrets(), free_port()
    failures = 0
    began = time.monotonic()
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"kyodo-keycloak-topology-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        with running_topology(keycloak_port, ports, env, gateway_env=checks.RATE_LIMIT_ENV, work=work) as topology:
            keycloak = Processes(work / "logs")
            try:
                start_keycloak(keycloak, args.dist, java_home, topology.services, topology.replace, keycloak_port)
                print(f"topology and Keycloak up after {time.monotonic() - began:.0f} s at {topology.public_url}",
                      flush=True)
                deployment = checks.Deployment(topology.public_url, topology.env)
                for name, check in all_checks(deployment, topology):
                    try:
                        check()
                        print(f"ok    {name}", flush=True)
                    except AssertionError as error:
                        failures += 1
                        print(f"FAIL  {name}: {error}", flush=True)
                    except Exception:  # noqa: BLE001 - report every check, whatever broke
                        failures += 1
                        print(f"FAIL  {name}:\n{traceback.format_exc()}", flush=True)
            finally:
                keycloak.stop_all()
                (args.dist / "data" / "import" / "kyodo-realm.json").unlink(missing_ok=True)
    except TopologyError as error:
        print(f"run_local: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"logs kept in {work / 'logs'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{failures} of {len(all_checks(checks.Deployment('', {}), None))} checks failed" if failures
          else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
