"""Talk to the gateway as a client would: GraphQL over HTTP POST with an optional bearer token."""

from __future__ import annotations

from typing import Any

import httpx

EXPOSE_PLAN_HEADER = "Apollo-Expose-Query-Plan"


async def post_graphql(url: str, query: str, variables: dict[str, Any] | None = None, *,
                       token: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    all_headers = {"content-type": "application/json", "accept": "application/json", **(headers or {})}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, json={"query": query, "variables": variables or {}}, headers=all_headers)
