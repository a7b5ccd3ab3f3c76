"""Healthy subgraph connections: per-subgraph client settings, the circuit breaker, the request's time budget,
and cancellation when the client goes — against real subgraph servers (things, and gauges that can fail)."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any, Callable, Iterator

import orjson
import pytest
from starlette.testclient import TestClient

from gateway.executor import CIRCUIT_OPEN, TIMED_OUT, BreakerSettings, CircuitBreaker, HttpSubgraphFetcher, \
    SubgraphRequestError, SubgraphRoute
from gateway.http import create_app
from gateway.http.fetching import create_client_session
from gateway.settings import HttpClientSettings, SettingsError, settings_from_mapping
from gateway.supergraph import load_supergraph
from tests.gateway_http.gauges_subgraph import CONTROL, gauges_app, two_subgraph_supergraph
from tests.gateway_http.servers import ThreadedServer
from tests.gateway_http.test_subgraph_connections import ClosingOnReuseServer

BOTH = {"query": "{ hello gauge }"}
BREAKER_LOG = "kyodo.gateway.circuit_breaker"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def eventually(condition: Callable[[], bool], seconds: float = 15.0) -> bool:
    """Poll until true (a bound, not a measurement: the test fails only if it never happens)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture(scope="module")
def gauges_server() -> Iterator[ThreadedServer]:
    with ThreadedServer(gauges_app(), lifespan="off") as server:
        yield server


@pytest.fixture
def two_subgraphs(things_server: ThreadedServer, gauges_server: ThreadedServer) -> Any:
    CONTROL.reset()
    yield load_supergraph(two_subgraph_supergraph(things_server.url + "/graphql", gauges_server.url + "/graphql"))
    CONTROL.reset()


@pytest.fixture
def gateway(two_subgraphs: Any) -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def make(settings: dict | None = None) -> TestClient:
        app = create_app(settings_from_mapping({"admin": {"metrics_on_public_port": True}, **(settings or {})}),
                         two_subgraphs)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def post(client: TestClient, body: dict = BOTH) -> dict:
    response = client.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def circuit_metric(client: TestClient, subgraph: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'kyodo_gateway_subgraph_circuit_state{{subgraph="{subgraph}"}}'):
            return float(line.split()[-1])
    raise AssertionError("no circuit state metric for " + subgraph)


# -- the state machine ---------------------------------------------------------------------------------------

def breaker(threshold: int = 3, window: float = 10.0, cooldown: float = 5.0) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker("gauges", BreakerSettings(threshold, window, cooldown), clock=clock), clock


def fail(circuit: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        permit = circuit.acquire()
        assert permit is not None
        circuit.failed(permit, "HTTP 503")


def test_consecutive_failures_within_the_window_open_the_circuit():
    circuit, clock = breaker(threshold=3, window=10)
    fail(circuit, 2)
    ok = circuit.acquire()
    circuit.succeeded(ok)                 # a success resets the count
    fail(circuit, 2)
    assert circuit.state == "closed"
    clock.now += 11                       # the third failure comes too late after the first of this run
    fail(circuit)
    assert circuit.state == "closed" and circuit.failures == 1
    fail(circuit, 2)
    assert circuit.state == "open"
    assert circuit.acquire() is None and circuit.rejected == 1


def test_after_the_cooldown_exactly_one_probe_goes_and_decides():
    circuit, clock = breaker(threshold=1, cooldown=5)
    fail(circuit)
    clock.now += 4.9
    assert circuit.acquire() is None
    clock.now += 0.2
    probe = circuit.acquire()
    assert probe is not None and probe.probe and circuit.state == "half_open"
    assert circuit.acquire() is None      # only one probe at a time
    circuit.failed(probe, "timed out")
    assert circuit.state == "open" and circuit.acquire() is None   # re-opened for another cool-down
    clock.now += 5.1
    probe = circuit.acquire()
    circuit.succeeded(probe)
    assert circuit.state == "closed" and circuit.acquire() is not None


def test_an_abandoned_probe_frees_the_slot_and_stale_answers_change_nothing():
    circuit, clock = breaker(threshold=1, cooldown=5)
    early = circuit.acquire()             # sent while closed, answered after the circuit opened
    fail(circuit)
    circuit.succeeded(early)
    assert circuit.state == "open"
    clock.now += 6
    probe = circuit.acquire()
    circuit.abandoned(probe)              # its client went away: no verdict
    assert circuit.state == "half_open"
    second = circuit.acquire()
    assert second is not None and second.probe


def test_every_transition_is_logged(caplog):
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    circuit, clock = breaker(threshold=2, cooldown=5)
    fail(circuit, 2)
    clock.now += 6
    circuit.succeeded(circuit.acquire())
    lines = [record.getMessage() for record in caplog.records if record.name == BREAKER_LOG]
    assert len(lines) == 3
    assert "gauges circuit closed -> open: 2 failures in a row, the last: HTTP 503" in lines[0]
    assert "open -> half_open" in lines[1] and "half_open -> closed: the probe succeeded" in lines[2]


# -- settings --------------------------------------------------------------------------------------------------

def test_a_subgraph_table_overrides_the_client_defaults():
    settings = settings_from_mapping({
        "http_client": {"request_timeout_seconds": 20.0, "circuit_breaker": {"cooldown_seconds": 9.0}},
        "subgraphs": {"gauges": {"request_timeout_seconds": 2.5, "max_connections": 3, "read_timeout_seconds": 1.0,
                                 "retry_closed_connections": False, "circuit_breaker": {"failure_threshold": 2}}},
    })
    gauges = settings.subgraph_client("gauges")
    assert (gauges.request_timeout_seconds, gauges.max_connections_per_host, gauges.read_timeout_seconds,
            gauges.retry_closed_connections) == (2.5, 3, 1.0, False)
    assert (gauges.circuit_breaker.failure_threshold, gauges.circuit_breaker.cooldown_seconds) == (2, 9.0)
    things = settings.subgraph_client("things")
    assert things.request_timeout_seconds == 20.0 and things.circuit_breaker.failure_threshold == 5


@pytest.mark.parametrize(("mapping", "message"), [
    ({"http_client": {"keepalive_seconds": 6.0}},
     "http_client: keepalive_seconds (6) must be below subgraph_keepalive_seconds (5)"),
    ({"subgraphs": {"gauges": {"keepalive_seconds": 5.0}}},
     "subgraphs.gauges: keepalive_seconds (5) must be below subgraph_keepalive_seconds (5)"),
    ({"subgraphs": {"gauges": {"circuit_breaker": {"failure_threshold": 0}}}},
     "subgraphs.gauges.circuit_breaker.failure_threshold: must be greater than 0"),
    ({"subgraphs": {"gauges": {"pool": 3}}}, "subgraphs.gauges.pool: unknown key"),
])
def test_bad_client_settings_are_one_line_errors(mapping, message):
    with pytest.raises(SettingsError) as error:
        settings_from_mapping(mapping)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_table_for_an_unknown_subgraph_stops_the_gateway(two_subgraphs):
    with pytest.raises(SettingsError) as error:
        create_app(settings_from_mapping({"subgraphs": {"gauge": {"request_timeout_seconds": 1.0}}}), two_subgraphs)
    assert str(error.value) == "subgraphs.gauge: no subgraph of that name in the supergraph (it has: gauges, things)"


def test_each_subgraph_has_its_own_pool(gateway):
    import concurrent.futures

    client = gateway({"subgraphs": {"gauges": {"max_connections": 1}}})
    bodies = [{"query": f"{{ s{i}: slow(seconds: 0.3) }}"} for i in range(3)]   # distinct: not coalesced
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda body: post(client, body), bodies))
    assert [answer["data"] for answer in answers] == [{f"s{i}": "done"} for i in range(3)]
    assert CONTROL.slow_most == 1         # one connection to gauges: its requests went one after another


# -- the circuit breaker through the gateway -------------------------------------------------------------------

def test_a_failing_subgraph_opens_its_circuit_and_only_its_fields_are_null(gateway, caplog):
    caplog.set_level(logging.INFO, logger=BREAKER_LOG)
    client = gateway({"http_client": {"circuit_breaker": {"failure_threshold": 3, "cooldown_seconds": 30.0}}})
    clock = Clock()
    client.app.state.gateway.connections.breakers["gauges"].clock = clock
    CONTROL.mode = "503"
    for _ in range(3):
        answer = post(client)
        assert answer["data"] == {"hello": "hello world", "gauge": None}
        assert answer["errors"][0]["extensions"] == {"code": "SERVICE_OVERLOADED", "service": "gauges"}
    assert CONTROL.requests == 3
    assert circuit_metric(client, "gauges") == 2 and circuit_metric(client, "things") == 0

    answer = post(client)                 # open: failed at once, without the network
    assert answer["data"] == {"hello": "hello world", "gauge": None}
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": CIRCUIT_OPEN, "service": "gauges"}
    assert 'subgraph "gauges"' in error["message"] and "circuit open" in error["message"]
    assert CONTROL.requests == 3

    clock.now += 31                       # cool-down over; the probe fails: open again
    assert post(client)["errors"][0]["extensions"]["code"] == "SERVICE_OVERLOADED"
    assert CONTROL.requests == 4
    assert post(client)["errors"][0]["extensions"]["code"] == CIRCUIT_OPEN
    assert CONTROL.requests == 4

    CONTROL.mode = "ok"                   # the subgraph is back; the next probe closes the circuit
    clock.now += 31
    assert post(client) == {"data": {"hello": "hello world", "gauge": 7}}
    assert post(client) == {"data": {"hello": "hello world", "gauge": 7}}
    assert CONTROL.requests == 6
    assert circuit_metric(client, "gauges") == 0
    transitions = [record.getMessage().split(":")[0] for record in caplog.records if record.name == BREAKER_LOG]
    assert transitions == ["subgraph gauges circuit closed -> open", "subgraph gauges circuit open -> half_open",
                           "subgraph gauges circuit half_open -> open", "subgraph gauges circuit open -> half_open",
                           "subgraph gauges circuit half_open -> closed"]


def test_graphql_errors_in_a_200_do_not_open_the_circuit(gateway):
    client = gateway({"http_client": {"circuit_breaker": {"failure_threshold": 2}}})
    CONTROL.mode = "graphql-error"
    for _ in range(4):
        assert post(client)["errors"][0]["message"] == "no gauge today"
    assert CONTROL.requests == 4
    assert client.app.state.gateway.connections.breakers["gauges"].state == "closed"


def test_an_unreachable_subgraph_opens_its_circuit(gateway):
    with socket.socket() as probe:        # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = gateway({"subgraphs": {"gauges": {"url": f"http://127.0.0.1:{port}/graphql",
                                               "circuit_breaker": {"failure_threshold": 2}}}})
    codes = [post(client)["errors"][0]["extensions"]["code"] for _ in range(3)]
    assert codes == ["SUBREQUEST_HTTP_ERROR", "SUBREQUEST_HTTP_ERROR", CIRCUIT_OPEN]


def test_a_circuit_can_be_switched_off_for_one_subgraph(gateway):
    client = gateway({"subgraphs": {"gauges": {"circuit_breaker": {"enabled": False}}},
                      "http_client": {"circuit_breaker": {"failure_threshold": 1}}})
    CONTROL.mode = "503"
    for _ in range(3):
        assert post(client)["errors"][0]["extensions"]["code"] == "SERVICE_OVERLOADED"
    assert CONTROL.requests == 3 and "gauges" not in client.app.state.gateway.connections.breakers


# -- time budgets and cancellation -----------------------------------------------------------------------------

def test_a_subgraph_past_its_own_timeout_is_a_gateway_timeout_error_and_its_work_is_cancelled(gateway):
    client = gateway({"subgraphs": {"gauges": {"request_timeout_seconds": 0.3}}})
    answer = post(client, {"query": "{ hello slow(seconds: 30) }"})
    assert answer["data"] == {"hello": "hello world", "slow": None}
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": TIMED_OUT, "service": "gauges"}
    assert eventually(lambda: CONTROL.slow_cancelled == 1)
    assert CONTROL.slow_finished == 0


def test_past_the_request_budget_the_client_gets_504_and_the_subgraph_stops(gateway):
    client = gateway({"runtime": {"request_timeout_seconds": 0.5}})
    response = client.post("/graphql", json={"query": "{ hello slow(seconds: 30) }"})
    assert response.status_code == 504
    assert response.json() == {"errors": [{"message": "Request timed out after 0.5 s.",
                                           "extensions": {"code": "GATEWAY_TIMEOUT"}}]}
    assert eventually(lambda: CONTROL.slow_cancelled == 1)
    assert CONTROL.slow_finished == 0
    (sent,) = CONTROL.deadline_headers    # what was left of 500 ms when the fetch went out
    assert 0 < int(sent) <= 500


def test_a_subgraph_stops_at_the_budget_it_is_sent(gauges_server, two_subgraphs):
    # straight to the subgraph: its own limit is 120 s, the caller says 200 ms are left
    import urllib.error
    import urllib.request

    request = urllib.request.Request(gauges_server.url + "/graphql", method="POST",
                                     data=orjson.dumps({"query": "{ slow(seconds: 30) }"}),
                                     headers={"content-type": "application/json", "kyodo-request-timeout-ms": "200"})
    with pytest.raises(urllib.error.HTTPError) as answered:
        urllib.request.urlopen(request, timeout=10)
    assert answered.value.code == 503
    assert orjson.loads(answered.value.read())["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert CONTROL.slow_cancelled == 1 and CONTROL.slow_finished == 0


def test_a_client_that_goes_away_cancels_its_subgraph_fetches(two_subgraphs):
    app = create_app(settings_from_mapping({"runtime": {"request_timeout_seconds": 120.0}}), two_subgraphs)
    with ThreadedServer(app) as gateway_server:
        body = orjson.dumps({"query": "{ slow(seconds: 30) }"})
        with socket.create_connection(("127.0.0.1", gateway_server.port), timeout=10) as connection:
            connection.sendall(b"POST /graphql HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n"
                               b"content-length: %d\r\n\r\n%s" % (len(body), body))
            assert eventually(lambda: CONTROL.slow_started == 1)
        # the connection is closed: the gateway cancels the request, its fetch closes, the subgraph stops
        assert eventually(lambda: CONTROL.slow_cancelled == 1)
        assert CONTROL.slow_finished == 0


async def test_retry_on_a_closed_pooled_connection_can_be_switched_off():
    async with ClosingOnReuseServer() as server:
        session = create_client_session(HttpClientSettings())
        try:
            fetcher = HttpSubgraphFetcher(None, {}, routes={"THINGS": SubgraphRoute(server.url, session,
                                                                                    retry_closed=False)})
            assert await fetcher.fetch("THINGS", "{ hello }", None, None) == {"data": {"answer": 1}}
            with pytest.raises(SubgraphRequestError, match="ServerDisconnectedError"):
                await fetcher.fetch("THINGS", "{ hello }", None, None)
        finally:
            await session.close()
        assert len(server.received) == 2 and server.dropped == 1


def test_kyodo_serve_refuses_an_unknown_subgraph_table_in_one_line(capsys, tmp_path):
    from kyodo.cli import main
    from tests.gateway_http.things_subgraph import things_supergraph

    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(things_supergraph("http://127.0.0.1:9/graphql"), encoding="utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(f'[auth]\nanonymous_only = true\ncontext_key_file = "{tmp_path / "key.json"}"\n'
                      '[subgraphs.thing]\nrequest_timeout_seconds = 1.0\n', encoding="utf-8")
    status = main(["serve", "--supergraph", str(supergraph), "--config", str(config)])
    err = capsys.readouterr().err
    assert status == 2
    assert err == "kyodo serve: subgraphs.thing: no subgraph of that name in the supergraph (it has: things)\n"
