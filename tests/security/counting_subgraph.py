"""A tiny real Federation 2 subgraph (strawberry) that counts its calls and trusts only the
gateway's `Kyodo-Context`, for end-to-end security tests behind the real gateway app."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import strawberry
import strawberry.federation
from strawberry.asgi import GraphQL
from strawberry.types import Info

from auth.context_token import verify_context
from auth.errors import AuthenticationError

SUBGRAPH_NAME = "people"
SUPERGRAPH_FIXTURE = Path(__file__).parent / "fixtures" / "counting_supergraph.graphql"
URL_PLACEHOLDER = "http://counting.invalid/graphql"


@dataclass
class CallLog:
    queries: list[str] = field(default_factory=list)
    contexts: list[str | None] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.queries)


@strawberry.type
class Shelter:
    id: strawberry.ID
    name: str
    occupancy: int | None = strawberry.federation.field(authenticated=True)


@strawberry.type
class Resident:
    id: strawberry.ID
    municipality: str | None


def _principal(info: Info):
    return info.context["principal"]


@strawberry.type
class Query:
    @strawberry.field
    def shelters(self) -> list[Shelter]:
        return [Shelter(id=strawberry.ID("282103:1"), name="加古川市役所", occupancy=12)]

    @strawberry.federation.field(authenticated=True)
    def me(self, info: Info) -> Resident | None:
        principal = _principal(info)
        if principal is None:
            raise PermissionError("no valid Kyodo-Context")
        return Resident(id=strawberry.ID(principal.subject), municipality=principal.municipality)

    @strawberry.federation.field(requires_scopes=[["identity:read"]])
    def residents(self) -> list[Resident]:
        return [Resident(id=strawberry.ID("r-1"), municipality="282014")]

    @strawberry.field
    def whoami(self, info: Info) -> str:
        principal = _principal(info)
        return "anonymous" if principal is None else principal.subject


class CountingApp(GraphQL):
    def __init__(self, log: CallLog, jwks: Any) -> None:
        super().__init__(strawberry.federation.Schema(query=Query), graphql_ide=None)
        self.log = log
        self.jwks = jwks

    async def get_context(self, request, response) -> dict:
        token = request.headers.get("kyodo-context")
        principal = None
        if token:
            try:
                principal = verify_context(token, SUBGRAPH_NAME, self.jwks)
            except AuthenticationError:
                principal = None
        body = await request.json()
        self.log.queries.append(body.get("query", ""))
        self.log.contexts.append(token)
        return {"request": request, "response": response, "principal": principal}


def subgraph_sdl() -> str:
    return strawberry.federation.Schema(query=Query).as_str()


def supergraph_sdl(url: str) -> str:
    return SUPERGRAPH_FIXTURE.read_text().replace(URL_PLACEHOLDER, url)
