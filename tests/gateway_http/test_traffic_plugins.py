"""The traffic engines wired in as plugins of the stage protocol: demand control, rate limits, the public
response cache, operation and fetch coalescing, and load shedding — through a real GatewayApp."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.http.app import GatewayApp
from gateway.pipeline import Pipeline
from gateway.settings import settings_from_mapping


class SlowExecutor:
    """Stands in for the engine: counts executions and how many overlap; each takes a moment."""

    def __init__(self, seconds: float = 0.05, data: Any = None) -> None:
        self.seconds = seconds
        self.calls = 0
        self.running = 0
        self.most = 0
        self.data = data if data is not None else {"hello": "hello world"}

    async def __call__(self, *args: Any) -> dict:
        self.calls += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.running -= 1
        return {"data": dict(self.data)}


async def post_all(supergraph: Any, settings: dict, bodies: list[dict], executor: SlowExecutor,
                   headers: dict[str, str] | None = None) -> list[httpx.Response]:
    config = settings_from_mapping(settings)
    pipeline = Pipeline(supergraph, config, build_plan=lambda *args: object(), execute_plan=executor)
    gateway = GatewayApp(config, supergraph, authenticator=None, context_headers=None, authorizer=None,
                         pipeline=pipeline)
    app = Starlette(routes=[Route("/graphql", gateway.graphql, methods=["GET", "POST"])])
    async with gateway.lifespan(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            return list(await asyncio.gather(*(client.post("/graphql", json=body, headers=headers)
                                               for body in bodies)))


async def test_identical_queries_in_flight_share_one_execution(supergraph):
    executor = SlowExecutor()
    responses = await post_all(supergraph, {}, [{"query": "{ hello }"}] * 12, executor)
    assert [r.status_code for r in responses] == [200] * 12
    assert all(r.json() == {"data": {"hello": "hello world"}} for r in responses)
    assert executor.calls == 1


async def test_coalescing_can_be_switched_off(supergraph):
    executor = SlowExecutor()
    settings = {"coalescing": {"operations": False, "subgraph_fetches": False}}
    responses = await post_all(supergraph, settings, [{"query": "{ hello }"}] * 12, executor)
    assert [r.status_code for r in responses] == [200] * 12
    assert executor.calls == 12


async def test_mutations_are_never_merged(supergraph):
    executor = SlowExecutor(data={"setGreeting": "greeting set to hi"})
    body = {"query": 'mutation { setGreeting(text: "hi") }'}
    responses = await post_all(supergraph, {}, [body] * 5, executor)
    assert [r.status_code for r in responses] == [200] * 5
    assert executor.calls == 5


async def test_past_the_in_flight_bound_requests_are_shed_at_once_with_503(supergraph):
    executor = SlowExecutor(seconds=0.3)
    settings = {"runtime": {"max_requests_in_flight": 2, "shed_retry_after_seconds": 2}}
    bodies = [{"query": f"{{ r{i}: hello }}"} for i in range(6)]   # distinct: nothing is coalesced
    responses = await post_all(supergraph, settings, bodies, executor)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 503, 503, 503, 503]
    shed = [r for r in responses if r.status_code == 503]
    assert all(r.headers["retry-after"] == "2" for r in shed)
    assert all(r.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE" for r in shed)
    assert executor.calls == 2 and executor.most == 2


async def test_too_expensive_operations_are_refused_before_execution(supergraph):
    executor = SlowExecutor()
    settings = {"demand_control": {"max_cost": 0, "list_size": 5}}
    responses = await post_all(supergraph, settings, [{"query": '{ thing(id: "1") { id name } }'}], executor)
    (response,) = responses
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert error["extensions"]["cost"]["estimated"] == 1 and error["extensions"]["cost"]["max"] == 0
    assert executor.calls == 0


async def test_cost_is_reported_in_extensions_when_asked(supergraph):
    executor = SlowExecutor(data={"thing": {"id": "1", "name": "thing 1"}})
    (response,) = await post_all(supergraph, {}, [{"query": '{ thing(id: "1") { id name } }'}], executor,
                                 headers={"x-expose-cost": "true"})
    assert response.json()["extensions"]["cost"] == {"estimated": 1, "max": 1000, "actual": 1}


async def test_anonymous_callers_past_their_bucket_get_429_with_retry_after(supergraph):
    executor = SlowExecutor(seconds=0)
    settings = {"rate_limit": {"anonymous": {"capacity": 2, "refill_per_second": 0.1}},
                "coalescing": {"operations": False}}
    bodies = [{"query": f"{{ r{i}: hello }}"} for i in range(4)]
    responses = await post_all(supergraph, settings, bodies, executor)
    assert sorted(r.status_code for r in responses) == [200, 200, 429, 429]
    refused = [r for r in responses if r.status_code == 429]
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    assert refused[0].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert executor.calls == 2


async def test_public_answers_are_cached_with_their_max_age(supergraph):
    executor = SlowExecutor(seconds=0)
    settings = {"response_cache": {"hints": {"Query.hello": {"max_age": 30}}}}
    config = settings_from_mapping(settings)
    pipeline = Pipeline(supergraph, config, build_plan=lambda *args: object(), execute_plan=executor)
    gateway = GatewayApp(config, supergraph, authenticator=None, context_headers=None, authorizer=None,
                         pipeline=pipeline)
    app = Starlette(routes=[Route("/graphql", gateway.graphql, methods=["POST"])])
    async with gateway.lifespan(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            first = await client.post("/graphql", json={"query": "{ hello }"})
            second = await client.post("/graphql", json={"query": "{ hello }"})
            other = await client.post("/graphql", json={"query": "{ receivedHeaders { name } }"})
    assert first.json() == second.json() == {"data": {"hello": "hello world"}}
    assert executor.calls == 2    # `hello` once, then the unhinted `receivedHeaders`
    assert first.headers["cache-control"] == "public, max-age=30"
    assert second.headers["cache-control"].startswith("public, max-age=")
    assert "public" not in other.headers.get("cache-control", "")


async def test_the_actual_cost_is_counted_for_a_sample_of_responses_unless_exposed(supergraph):
    """Counting the actual cost walks the whole response, so only one response in N pays for it."""
    from gateway.plugins.demand_control import DemandControlPlugin

    executor = SlowExecutor(seconds=0, data={"thing": {"id": "1", "name": "thing 1"}})
    settings = settings_from_mapping({"demand_control": {"actual_cost_sample_every": 3},
                                      "coalescing": {"operations": False}})
    pipeline = Pipeline(supergraph, settings, build_plan=lambda *args: object(), execute_plan=executor)
    gateway = GatewayApp(settings, supergraph, authenticator=None, context_headers=None, authorizer=None,
                         pipeline=pipeline)
    (plugin,) = [p for p in gateway.plugins if isinstance(p, DemandControlPlugin)]
    app = Starlette(routes=[Route("/graphql", gateway.graphql, methods=["POST"])])
    async with gateway.lifespan(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            for _ in range(6):
                await client.post("/graphql", json={"query": '{ thing(id: "1") { id name } }'})
            exposed = await client.post("/graphql", json={"query": '{ thing(id: "1") { id name } }'},
                                        headers={"x-expose-cost": "true"})
    samples = {s.name: s.value for metric in plugin.actual.collect() for s in metric.samples}
    assert samples["kyodo_gateway_operation_cost_actual_count"] == 3   # responses 3 and 6, and the exposed one
    assert exposed.json()["extensions"]["cost"]["actual"] == 1
