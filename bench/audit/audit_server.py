"""The audit's subgraph server (port 4200): suite ids, test cases, supergraph and subgraph lists.

The server is shared: reuse one that is already running; start one (and stop it afterwards) only
when none answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AuditCase:
    suite: str
    index: int
    query: str
    expected: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.suite}_{self.index}"  # the audit's own case name


class AuditServer:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def _get(self, path: str, timeout: float = 10.0) -> bytes:
        request = urllib.request.Request(self.base_url + path, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    def is_up(self) -> bool:
        try:
            return self._get("/_health", timeout=2.0) == b"OK"
        except (urllib.error.URLError, OSError):
            return False

    def suite_ids(self) -> list[str]:
        return json.loads(self._get("/ids"))

    def cases(self, suite: str) -> list[AuditCase]:
        raw = json.loads(self._get(f"/{suite}/tests"))
        return [AuditCase(suite, i, item["query"], item["expected"]) for i, item in enumerate(raw)]

    def supergraph(self, suite: str) -> str:
        return self._get(f"/{suite}/supergraph").decode()

    def subgraphs(self, suite: str) -> list[dict[str, Any]]:
        return json.loads(self._get(f"/{suite}/subgraphs"))

    def subgraph_problem(self, suite: str) -> str | None:
        """Ask the suite's first subgraph for its SDL; why it fails, or None when it answers.

        A server whose subgraphs fail makes every case fail whatever the gateway does, so check first.
        (Seen here: @apollo/subgraph 2.15 no longer accepts the `{typeDefs, resolvers}` object the
        audit passes to buildSubgraphSchema, and every subgraph answers 500 with an empty body.)
        """
        subgraph = self.subgraphs(suite)[0]
        request = urllib.request.Request(
            subgraph["url"], data=json.dumps({"query": "{ _service { sdl } }"}).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            return f"subgraph {subgraph['url']} answered HTTP {error.code}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            return f"subgraph {subgraph['url']} failed: {error}"
        if not (body.get("data") or {}).get("_service"):
            return f"subgraph {subgraph['url']} returned no SDL: {str(body)[:200]}"
        return None


class StartedAuditServer:
    """An audit server this runner started itself because none was running; stopped by its pid."""

    def __init__(self, audit_dir: Path, port: int, env: dict[str, str], log_path: Path) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(audit_dir / "node_modules/.bin/tsx"), "src/cli.ts", "serve", "--port", str(port)],
            cwd=audit_dir, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_up(self, server: AuditServer, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the audit server exited with {self.process.returncode}; see {self._log.name}")
            if server.is_up():
                return
            time.sleep(0.3)
        raise RuntimeError(f"the audit server did not answer within {timeout:.0f}s; see {self._log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
