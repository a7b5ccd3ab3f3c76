"""The relay's calls: a client-credentials access token (from the issuer's discovery document) and GraphQL POSTs
with it, to identity directly (the outbox operations, @inaccessible in the supergraph) and to the gateway
(currency's grantPoints). Failures to reach any of them are `RelayUnavailable`, with one readable line."""

from __future__ import annotations

from typing import Any

import httpx

from .settings import SCOPE, RelaySettings


class RelayUnavailable(Exception):
    """The IdP or the gateway could not be asked (network, non-JSON, a 5xx): nothing was learnt."""


async def client_credentials_token(http: httpx.AsyncClient, settings: RelaySettings) -> str:
    try:
        discovery = await http.get(f"{settings.issuer}/.well-known/openid-configuration")
        discovery.raise_for_status()
        response = await http.post(discovery.json()["token_endpoint"],
                                   data={"grant_type": "client_credentials", "scope": SCOPE},
                                   auth=(settings.client_id, settings.client_secret))
    except (httpx.HTTPError, ValueError, KeyError) as error:
        raise RelayUnavailable(f"cannot reach the IdP at {settings.issuer}: {error}") from None
    if response.status_code != 200:
        raise RelayUnavailable(f"the IdP refused the relay's client credentials: HTTP {response.status_code} "
                               f"{response.text[:200]}")
    return response.json()["access_token"]


class GraphQLClient:
    """One GraphQL endpoint (`name` says which in messages: "the gateway", "identity") with the relay's token."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str, name: str = "the gateway") -> None:
        self.http, self.url, self.token, self.name = http, url, token, name

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The endpoint's JSON answer ({data, errors}); RelayUnavailable when there is none to read."""
        try:
            response = await self.http.post(self.url, json={"query": query, "variables": variables or {}},
                                            headers={"Authorization": f"Bearer {self.token}"})
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RelayUnavailable(f"cannot reach {self.name} at {self.url}: {error}") from None
        if response.status_code >= 500 or not isinstance(body, dict):
            raise RelayUnavailable(f"{self.name} answered HTTP {response.status_code}")
        return body
