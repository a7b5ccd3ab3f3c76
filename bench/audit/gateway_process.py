"""Start a gateway through its audit folder's run.sh, wait until it serves, stop it.

A gateway folder holds `run.sh` (called as `sh run.sh <suite>` from inside the folder, as the audit
does) and `gateway.json` (`graphql` and `health` URLs). The gateway runs in its own process group so
that stopping it reaches every process run.sh started (npx → node, or uvicorn workers) and nothing else.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class GatewayFolder:
    path: Path
    name: str
    graphql_url: str
    health_url: str

    @property
    def port(self) -> int:
        return urlsplit(self.graphql_url).port or 80

    @classmethod
    def read(cls, path: Path) -> GatewayFolder:
        config = json.loads((path / "gateway.json").read_text())
        return cls(path, config.get("name", path.name), config["graphql"], config["health"])


def port_holder(port: int) -> str | None:
    """Who listens on 127.0.0.1:port, or None when the port is free."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        if probe.connect_ex(("127.0.0.1", port)) != 0:
            return None
    try:
        listing = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5)
        return listing.stdout.strip() or f"something on port {port}"
    except (OSError, subprocess.SubprocessError):
        return f"something on port {port}"


def listener_pids(port: int) -> set[int]:
    """Pids listening on the TCP port (from `ss`)."""
    try:
        listing = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return set()
    return {int(pid) for pid in re.findall(r"pid=(\d+)", listing.stdout)}


def wait_port_free(port: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_holder(port) is None:
            return True
        time.sleep(0.2)
    return False


class GatewayProcess:
    def __init__(self, folder: GatewayFolder, suite: str, env: dict[str, str], log_path: Path) -> None:
        self.folder = folder
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            ["sh", "run.sh", suite], cwd=folder.path, env=env,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, timeout: float) -> str | None:
        """Wait for GET health = 200 and then `{ __typename }` = Query, as the audit does.

        Returns None when ready, else why not (the audit then runs the cases anyway, and they fail).
        """
        deadline = time.monotonic() + timeout
        while not self._health_ok():
            if self.process.poll() is not None:
                return f"gateway exited with code {self.process.returncode} before it was healthy"
            if time.monotonic() > deadline:
                return f"health check {self.folder.health_url} not OK within {timeout:.0f}s"
            time.sleep(0.2)
        ping_deadline = time.monotonic() + 2.0
        while True:
            if self._typename_ok():
                return None
            if time.monotonic() > ping_deadline:
                return "healthy, but `query ping { __typename }` did not return Query"
            time.sleep(0.1)

    def owns_port(self) -> bool:
        """Whether the process listening on the gateway's port is one this gateway started: another
        process may have taken the port between the check and the start (e.g. a `kyodo dev` on 4000)."""
        for pid in listener_pids(self.folder.port):
            try:
                if os.getpgid(pid) == self.process.pid:
                    return True
            except ProcessLookupError:
                continue
        return False

    def _health_ok(self) -> bool:
        try:
            with urllib.request.urlopen(self.folder.health_url, timeout=0.5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def _typename_ok(self) -> bool:
        body = json.dumps({"operationName": "ping", "query": "query ping { __typename }"}).encode()
        request = urllib.request.Request(
            self.folder.graphql_url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=1.0) as response:
                return json.loads(response.read()).get("data", {}).get("__typename") == "Query"
        except (urllib.error.URLError, OSError, ValueError, AttributeError):
            return False

    def stop(self) -> None:
        group = self.process.pid
        _signal_group(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(group, signal.SIGKILL)
            self.process.wait()
        # run.sh may be gone while its children (npx → node) still run in the group: give them a
        # moment to exit on the SIGTERM, then end them.
        deadline = time.monotonic() + 5.0
        while _signal_group(group, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(group, signal.SIGKILL)
        self._log.close()


def _signal_group(group: int, signum: int) -> bool:
    """Signal the process group this runner created; False once it has no process left."""
    try:
        os.killpg(group, signum)
        return True
    except ProcessLookupError:
        return False
