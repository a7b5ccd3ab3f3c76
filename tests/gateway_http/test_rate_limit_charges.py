"""What a request is charged by the rate limit: its estimated cost when its plan runs, only `minimum_weight` when
it is answered without running it (a response-cache hit, a follower of an identical request in flight)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.document import GraphQLRequestError
from gateway.http.app import GatewayApp
from gateway.pipeline import Pipeline
from gateway.plugins.protocol import OperationEvent, RequestState
from gateway.plugins.rate_limits import RateLimitPlugin
from gateway.settings import settings_from_mapping
from gateway.traffic.rate_limit import CHEAP_ANSWER_NOTE, BucketSettings, RateLimitSettings
from tests.gateway_http.test_traffic_plugins import SlowExecutor

QUERY = {"query": "{ receivedHeaders { name value } }"}
DATA = {"receivedHeaders": [{"name": "a", "value": "b"}]}
ESTIMATE = 20   # of QUERY with list_size 20 (checked below through x-expose-cost)
CACHED = {"response_cache": {"hints": {"Query.receivedHeaders": {"max_age": 30}, "Header": {"max_age": 30}}}}


def bucket(capacity: float) -> dict:
    # refills so slowly that nothing comes back during a test
    return {"rate_limit": {"anonymous": {"capacity": capacity, "refill_per_second": 0.001}, "minimum_weight": 1},
            "demand_control": {"list_size": 20}}


@contextlib.asynccontextmanager
async def gateway(supergraph: Any, settings: dict, executor: SlowExecutor) -> AsyncIterator[httpx.AsyncClient]:
    config = settings_from_mapping(settings)
    pipeline = Pipeline(supergraph, config, build_plan=lambda *args: object(), execute_plan=executor)
    app_state = GatewayApp(config, supergraph, authenticator=None, context_headers=None, authorizer=None,
                           pipeline=pipeline)
    app = Starlette(routes=[Route("/graphql", app_state.graphql, methods=["POST"])])
    async with app_state.lifespan(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            yield client


async def test_the_estimate_is_what_a_miss_costs(supergraph):
    async with gateway(supergraph, {**CACHED, **bucket(1000)}, SlowExecutor(0, DATA)) as client:
        response = await client.post("/graphql", json=QUERY, headers={"x-expose-cost": "true"})
    assert response.json()["extensions"]["cost"]["estimated"] == ESTIMATE


async def test_response_cache_hits_are_charged_the_minimum_weight(supergraph):
    executor = SlowExecutor(0, DATA)
    # room for one miss and ten hits at 1 each; charged their estimate, the first hit would already be refused
    async with gateway(supergraph, {**CACHED, **bucket(ESTIMATE + 10)}, executor) as client:
        statuses = [(await client.post("/graphql", json=QUERY)).status_code for _ in range(11)]
        refused = await client.post("/graphql", json=QUERY)
    assert statuses == [200] * 11
    assert executor.calls == 1            # one miss, ten hits
    assert refused.status_code == 429     # the bucket is empty: even a hit costs something
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_miss_is_charged_its_estimate(supergraph):
    executor = SlowExecutor(0, DATA)
    async with gateway(supergraph, bucket(ESTIMATE + 10), executor) as client:   # no cache hint: every one runs
        statuses = [(await client.post("/graphql", json=QUERY)).status_code for _ in range(2)]
    assert statuses == [200, 429]
    assert executor.calls == 1


async def test_followers_of_an_identical_request_in_flight_are_charged_the_minimum_weight(supergraph):
    executor = SlowExecutor(0.5, DATA)
    async with gateway(supergraph, bucket(ESTIMATE + 11), executor) as client:
        leader = asyncio.ensure_future(client.post("/graphql", json=QUERY))
        for _ in range(200):   # until the leader runs its plan
            if executor.running:
                break
            await asyncio.sleep(0.01)
        assert executor.running == 1
        followers = await asyncio.gather(*(client.post("/graphql", json=QUERY) for _ in range(11)))
        first = await leader
    assert first.status_code == 200 and [r.status_code for r in followers] == [200] * 11
    assert all(r.json() == {"data": DATA} for r in followers)
    assert executor.calls == 1


def _state(note: str | None) -> RequestState:
    state = RequestState("r", "POST", "/graphql", {}, 0.0, client="192.0.2.1")
    state.operation_type = "query"
    state.notes["cost"] = type("Estimate", (), {"total": ESTIMATE})()
    if note is not None:
        state.notes[CHEAP_ANSWER_NOTE] = note
    return state


async def test_a_would_be_follower_that_runs_the_plan_itself_pays_the_rest_of_its_estimate():
    plugin = RateLimitPlugin(RateLimitSettings(anonymous=BucketSettings(capacity=ESTIMATE + 5, refill_per_second=0.001)))
    first = _state("coalesced")
    await plugin.operation(OperationEvent(first, None))
    await plugin.execution_start(first)        # its leader had finished: it ran the plan, and paid the rest
    second = _state("coalesced")
    await plugin.operation(OperationEvent(second, None))   # 4 tokens left: the minimum passes
    with pytest.raises(GraphQLRequestError) as refused:
        await plugin.execution_start(second)   # ...the rest of the estimate does not
    assert refused.value.status == 429
    followed = _state("coalesced")
    await plugin.operation(OperationEvent(followed, None))
    followed.answer = {"data": DATA}            # it did follow: nothing more to pay
    await plugin.execution_start(followed)
