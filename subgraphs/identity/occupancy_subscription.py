"""The `shelterOccupancyChanged(shelterId)` subscription (the events: `occupancy_events`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from subgraphs.common.facility_id import facility_id_argument
from subgraphs.common.subscriptions import events_for

from .graphql_types import Shelter
from .occupancy_events import occupancy_topic


@strawberry.type
class OccupancySubscription:
    @strawberry.subscription(description="the shelter's occupancy after each check-in or check-out there")
    async def shelter_occupancy_changed(self, info: Info, shelter_id: strawberry.ID) -> AsyncGenerator[Shelter, None]:
        key = facility_id_argument(shelter_id, field="shelterId")
        async for _event in events_for(info, occupancy_topic(key)):
            yield Shelter(id=strawberry.ID(key))
