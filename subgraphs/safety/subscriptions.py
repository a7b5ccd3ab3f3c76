"""Root subscriptions of safety: river alert changes per basin, flood sensors turning wet per municipality.

Both read public data (gauges and sensors answer anyone on the Query root too), so anonymous callers may
subscribe. Events carry ids only (`subgraphs.common.events`); each delivery re-reads the gauge or sensor.

- `riverAlertChanged(basin)`: a recorded observation became its gauge's latest and changed the gauge's
  警戒レベル相当 (`river_levels`), on a gauge of that basin. Threshold changes and late observations (older
  than the latest) change no alert level here and publish nothing.
- `floodSensorTriggered(municipalityCode)`: a report turned a sensor of that municipality from dry to wet.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Optional

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.common.errors import BadUserInput
from subgraphs.common.events import publish_on_commit
from subgraphs.common.subscriptions import events_for

from . import river_levels
from .graphql_types import FloodSensor, RiverGauge
from .models import FloodSensor as FloodSensorRow
from .models import RiverGauge as RiverGaugeRow
from .models import RiverObservation as RiverObservationRow
from .queries import load_gauge, municipality_code_argument
from .timestamps import as_utc

MAX_BASIN_LENGTH = 64


def river_alert_topic(basin: str) -> str:
    return f"riverAlertChanged:{basin}"


def flood_sensor_topic(municipality_code: str) -> str:
    return f"floodSensorTriggered:{municipality_code}"


def publish_river_alert_change(session: AsyncSession, gauge: RiverGaugeRow, observation_id: int) -> None:
    publish_on_commit(session, river_alert_topic(gauge.basin), {"gaugeId": gauge.id, "observationId": observation_id})


def publish_sensor_triggered(session: AsyncSession, sensor: FloodSensorRow) -> None:
    publish_on_commit(session, flood_sensor_topic(sensor.municipality_code), {"sensorId": sensor.id})


@strawberry.type(description="a gauge's 警戒レベル相当 changed with a new observation")
class RiverAlertChange:
    basin: str = strawberry.field(description="水系 of the gauge")
    gauge: RiverGauge = strawberry.field(description="the gauge as it is now")
    previous_alert_level: Optional[int] = strawberry.field(
        description="警戒レベル相当 before this observation; null when it was normal or unobserved")
    alert_level: Optional[int] = strawberry.field(description="警戒レベル相当 of this observation; null when normal")
    observed_at: datetime = strawberry.field(description="観測時刻 of the observation that changed it")


async def _basin_argument(info: Info, basin: str) -> str:
    if not basin or len(basin) > MAX_BASIN_LENGTH or basin != basin.strip():
        raise BadUserInput(f"basin must be 1-{MAX_BASIN_LENGTH} characters without surrounding spaces",
                           field="basin")
    async with info.context.transaction() as session:
        known = sorted((await session.execute(select(RiverGaugeRow.basin).distinct())).scalars())
    if basin not in known:
        raise BadUserInput(f"no river gauge is in basin {basin!r}; known basins: {known}", field="basin",
                           known=known)
    return basin


async def _alert_change(session: AsyncSession, basin: str, gauge_id: str,
                        observation_id: int) -> Optional[RiverAlertChange]:
    gauge = await load_gauge(session, gauge_id)
    observation = await session.get(RiverObservationRow, observation_id)
    if gauge is None or observation is None or observation.gauge_id != gauge_id:
        return None
    thresholds = gauge.thresholds.as_domain()
    before = (await session.execute(
        select(RiverObservationRow).where(RiverObservationRow.gauge_id == gauge_id,
                                          RiverObservationRow.observed_at < observation.observed_at)
        .order_by(RiverObservationRow.observed_at.desc()).limit(1))).scalars().first()
    return RiverAlertChange(
        basin=basin, gauge=gauge,
        previous_alert_level=river_levels.alert_level(before.level, thresholds, before.flooding_observed)
        if before is not None else None,
        alert_level=river_levels.alert_level(observation.level, thresholds, observation.flooding_observed),
        observed_at=as_utc(observation.observed_at))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="each change of a gauge's 警戒レベル相当 in the basin (水系, e.g. \"加古川\")")
    async def river_alert_changed(self, info: Info, basin: str) -> AsyncGenerator[RiverAlertChange, None]:
        basin = await _basin_argument(info, basin)
        async for event in events_for(info, river_alert_topic(basin)):
            async with info.context.transaction() as session:
                change = await _alert_change(session, basin, str(event.get("gaugeId")),
                                             int(event.get("observationId", 0)))
            if change is not None:
                yield change

    @strawberry.subscription(description="a flood sensor of the municipality turned wet (was dry)")
    async def flood_sensor_triggered(self, info: Info, municipality_code: str) -> AsyncGenerator[FloodSensor, None]:
        code = municipality_code_argument(municipality_code)
        async for event in events_for(info, flood_sensor_topic(code)):
            async with info.context.transaction() as session:
                row = await session.get(FloodSensorRow, str(event.get("sensorId")))
            if row is not None:
                yield FloodSensor.from_row(row)
