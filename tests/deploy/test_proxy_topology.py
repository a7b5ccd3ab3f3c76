"""The compose stack's fronting proxy, run for real without docker: nginx with docker/nginx/nginx.conf (the
service names pointed at loopback ports) in front of two gateway replicas. Both replicas serve, oversized
headers and bodies are refused at the proxy, a client that stops sending its headers is cut off."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gateway.http import create_app
from gateway.settings import Settings
from tests.gateway_http.servers import ThreadedServer
from deploy.free_port import free_port as _free_port
from deploy.local_topology import Ports, nginx_conf

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")


class Counting:
    """An ASGI wrapper that counts the HTTP requests one replica received."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app, self.requests = app, 0

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http":
            self.requests += 1
        await self.app(scope, receive, send)




def local_conf(work: Path, port: int, gateways: list[int], keycloak: int) -> Path:
    """The local topology's nginx.conf (deploy/local_topology.py: service names at loopback ports, one worker),
    with 2 s header/body timeouts so a slow client is cut off within the test."""
    path = nginx_conf(work, Ports(nginx=port, gateways=(gateways[0], gateways[1])), keycloak)
    conf, timeouts = re.subn(r"(client_(header|body)_timeout) 10s;", r"\1 2s;", path.read_text())
    assert timeouts == 2
    path.write_text(conf)
    return path


@contextlib.contextmanager
def nginx(conf: Path, port: int):
    check = subprocess.run([str(NGINX), "-t", "-c", str(conf), "-p", str(conf.parent), "-e", "stderr"],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([str(NGINX), "-c", str(conf), "-p", str(conf.parent), "-e", "stderr",
                                "-g", "daemon off;"], stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()[-2000:]
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def topology(supergraph, tmp_path):
    replicas = [Counting(create_app(Settings(), supergraph)) for _ in range(2)]
    idp = Counting(create_app(Settings(), supergraph))      # stands in for Keycloak's /realms/ endpoints
    with ThreadedServer(replicas[0]) as one, ThreadedServer(replicas[1]) as two, ThreadedServer(idp) as kc:
        port = _free_port()
        with nginx(local_conf(tmp_path, port, [one.port, two.port], kc.port), port) as url:
            yield url, replicas, idp


def test_requests_are_spread_over_both_gateway_replicas(topology):
    url, replicas, idp = topology
    for _ in range(6):
        status, body = post(url + "/graphql", b'{"query": "{ __typename }"}')
        assert status == 200 and json.loads(body) == {"data": {"__typename": "Query"}}
    assert [r.requests for r in replicas] == [3, 3]
    assert idp.requests == 0
    # Keycloak's public paths go to Keycloak, not to a gateway
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(url + "/realms/kyodo/.well-known/openid-configuration", timeout=20)
    assert idp.requests == 1 and sum(r.requests for r in replicas) == 6


def test_oversized_headers_and_bodies_stop_at_the_proxy(topology):
    url, replicas, _ = topology
    status, _ = post(url + "/graphql", b'{"query": "{ __typename }"}', {"x-filler": "a" * 9000})
    assert status == 400                                   # one header line over 8 KB
    status, _ = post(url + "/graphql", b'{"query": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    assert status == 413                                   # body over 1 MB
    assert sum(r.requests for r in replicas) == 0          # neither reached a gateway


def test_a_client_that_stops_sending_its_headers_is_cut_off(topology):
    url, replicas, _ = topology
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
        slow.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")   # … and nothing more
        answer = b""
        while chunk := slow.recv(4096):                    # the proxy closes the connection (408, or nothing)
            answer += chunk
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
    assert sum(r.requests for r in replicas) == 0
