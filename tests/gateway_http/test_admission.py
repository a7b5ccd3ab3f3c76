"""settings.runtime.max_concurrent_requests: how many GraphQL requests one app runs at once (the requests
differ, so operation coalescing does not merge them)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.http.app import GatewayApp
from gateway.pipeline import Pipeline
from gateway.settings import RuntimeSettings, SettingsError, settings_from_mapping


class CountingExecutor:
    """Stands in for the engine: counts how many executions overlap, each one lasting a moment."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0

    async def __call__(self, *args: Any) -> dict:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0.02)
        finally:
            self.running -= 1
        return {"data": {"hello": "world"}}


async def run_concurrently(supergraph: Any, limit: int, requests: int) -> tuple[int, list[httpx.Response]]:
    settings = settings_from_mapping({"runtime": {"max_concurrent_requests": limit}})
    executor = CountingExecutor()
    pipeline = Pipeline(supergraph, settings, build_plan=lambda *args: object(), execute_plan=executor)
    gateway = GatewayApp(settings, supergraph, authenticator=None, context_headers=None, authorizer=None,
                         pipeline=pipeline)
    app = Starlette(routes=[Route("/graphql", gateway.graphql, methods=["GET", "POST"])])
    async with gateway.lifespan(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            responses = await asyncio.gather(
                *(client.post("/graphql", json={"query": f"{{ r{i}: hello }}"}) for i in range(requests))
            )
    return executor.most, list(responses)


async def test_requests_beyond_the_limit_wait_their_turn_and_all_are_answered(supergraph):
    most, responses = await run_concurrently(supergraph, limit=3, requests=12)
    assert most == 3
    assert [r.status_code for r in responses] == [200] * 12
    assert all(r.json() == {"data": {"hello": "world"}} for r in responses)


async def test_zero_means_no_limit(supergraph):
    most, responses = await run_concurrently(supergraph, limit=0, requests=12)
    assert most == 12
    assert [r.status_code for r in responses] == [200] * 12


def test_limit_is_read_from_the_runtime_table():
    assert RuntimeSettings().max_concurrent_requests == 0  # no cap unless an operator sets one
    assert settings_from_mapping({"runtime": {"max_concurrent_requests": 2}}).runtime.max_concurrent_requests == 2
    with pytest.raises(SettingsError, match="runtime.max_concurrent_requests"):
        settings_from_mapping({"runtime": {"max_concurrent_requests": -1}})
