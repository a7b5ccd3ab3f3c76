"""`Municipality` (owned by identity, keyed by its 6-digit code) with what safety knows about it."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from subgraphs.common import co_use
from subgraphs.common.municipality import KAKOGAWA_BASIN

from .access import PLATFORM
from .graphql_types import FloodSensor
from .models import FloodSensor as FloodSensorRow


@strawberry.federation.type(keys=["code"])
class Municipality:
    code: strawberry.ID

    @strawberry.field(description="whether this municipality uses the safety platform (共同利用)")
    async def safety_joined(self, info: Info) -> bool:
        async with info.context.transaction() as session:
            return await co_use.joined(session, PLATFORM, str(self.code))

    @strawberry.field(description="member of the Kakogawa basin flood-sensor group (5市1町)")
    def in_kakogawa_basin(self) -> bool:
        return str(self.code) in KAKOGAWA_BASIN

    @strawberry.field
    async def flood_sensors(self, info: Info) -> list[FloodSensor]:
        async with info.context.transaction() as session:
            rows = await session.execute(select(FloodSensorRow).where(FloodSensorRow.municipality_code == str(self.code))
                                         .order_by(FloodSensorRow.local_id))
            return [FloodSensor.from_row(row) for row in rows.scalars()]

    @classmethod
    def resolve_reference(cls, code: strawberry.ID, **_: Any) -> Municipality:
        return cls(code=code)
