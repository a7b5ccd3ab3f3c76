"""Two small real Federation 2 subgraphs (strawberry) for subscription tests.

`gauges` owns `Subscription.levelChanged(station)` and publishes an event for each `reportLevel`
mutation (an in-process broker: the mutation and the subscribers share the server's loop);
`stations` adds `Station.name` and `Station.basin`, so every event needs a per-event entity fetch.
`gauges` also answers `Subscription.seenHeader(name)` with a request header of the subscription's
own connection, so tests can check at the subgraph what the gateway forwarded.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import AsyncGenerator

import strawberry
import strawberry.federation
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import Info


class Broker:
    """Subscribers per station: each gets its own queue; publishing puts the event on every one."""

    def __init__(self) -> None:
        self.queues: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def publish(self, station: str, event: object) -> int:
        for queue in self.queues[station]:
            queue.put_nowait(event)
        return len(self.queues[station])

    def subscribers(self, station: str) -> int:
        return len(self.queues[station])


@strawberry.federation.type(keys=["id"])
class Station:
    id: strawberry.ID


@strawberry.type
class LevelChange:
    sequence: int
    level_cm: int
    station: Station


def gauges_schema(broker: Broker) -> strawberry.federation.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def subscribers(self, station: str) -> int:
            return broker.subscribers(station)

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        def report_level(self, station: str, level_cm: int, sequence: int) -> int:
            return broker.publish(station, LevelChange(sequence=sequence, level_cm=level_cm,
                                                       station=Station(id=strawberry.ID(station))))

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def level_changed(self, station: str) -> AsyncGenerator[LevelChange, None]:
            queue: asyncio.Queue = asyncio.Queue()
            broker.queues[station].add(queue)
            try:
                while True:
                    yield await queue.get()
            finally:
                broker.queues[station].discard(queue)

        @strawberry.subscription
        async def seen_header(self, info: Info, name: str) -> AsyncGenerator[str | None, None]:
            yield info.context["request"].headers.get(name)

    return strawberry.federation.Schema(query=Query, mutation=Mutation, subscription=Subscription)


def gauges_app(broker: Broker) -> GraphQL:
    return GraphQL(gauges_schema(broker), graphql_ide=None, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL])


@strawberry.federation.type(keys=["id"], name="Station")
class NamedStation:
    id: strawberry.ID
    name: str
    basin: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: object) -> "NamedStation":
        return NamedStation(id=id, name=f"station {id}", basin="Kako")


def stations_app() -> GraphQL:
    @strawberry.type
    class Query:
        @strawberry.field
        def station(self, id: strawberry.ID) -> NamedStation:
            return NamedStation.resolve_reference(id)

    schema = strawberry.federation.Schema(query=Query)
    return GraphQL(schema, graphql_ide=None)
