"""Root query fields. Everything here except `watchTagStats` is open data: no context needed.

Single-facility fields take a `"{code}:{localId}"` id: a malformed one is BAD_USER_INPUT, a well-formed one
that safety does not hold answers null (not an error: the id may simply not have been imported).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

import strawberry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.common import co_use
from subgraphs.common.edge_rules import requires_any_scope
from subgraphs.common.errors import BadUserInput
from subgraphs.common.facility_id import facility_id_argument
from subgraphs.common.public_cache import cached_public
from subgraphs.common.municipality import KAKOGAWA_BASIN, InvalidMunicipalityCode, normalize_code
from subgraphs.common.list_sizes import SIZED_BY_LIMIT

from .access import PLATFORM
from .graphql_types import Aed, EvacuationSpace, FloodSensor, HazardKind, RiverGauge, Shelter
from .models import Aed as AedRow
from .models import EvacuationSpace as EvacuationSpaceRow
from .models import FloodSensor as FloodSensorRow
from .models import RiverGauge as RiverGaugeRow
from .models import RiverObservation as RiverObservationRow
from .models import Shelter as ShelterRow
from .municipality_type import Municipality
from .watch_tag_types import WatchTagStats, watch_tag_stats

MAX_PAGE = 1000


def municipality_code_argument(value: str, field: str = "municipalityCode") -> str:
    """A 5- or 6-digit code from a client, as its 6-digit form; BAD_USER_INPUT when malformed."""
    try:
        return normalize_code(value)
    except InvalidMunicipalityCode as exc:
        raise BadUserInput(str(exc), field=field) from None


def page(limit: int, offset: int) -> tuple[int, int]:
    if not 0 < limit <= MAX_PAGE:
        raise BadUserInput(f"limit must be 1..{MAX_PAGE}", field="limit")
    if offset < 0:
        raise BadUserInput("offset must not be negative", field="offset")
    return limit, offset


async def _count_open_data_use(info: Info) -> None:
    """Open data is free to read; a signed-in caller's municipality is still counted for cost sharing."""
    principal = info.context.principal
    if principal is not None and principal.municipality:
        async with info.context.transaction() as session:
            await co_use.count_usage(session, PLATFORM, principal.municipality)


async def _facilities(info: Info, model: type, build: Callable[[Any], Any], municipality_code: Optional[str],
                      limit: int, offset: int, *conditions: Any, variant: str = "") -> list[Any]:
    """One page of open-data rows, built by `build`; served from the short-lived public cache (`variant` names
    the conditions in its key)."""
    limit, offset = page(limit, offset)
    code = municipality_code_argument(municipality_code) if municipality_code is not None else None
    statement = select(model)
    if code is not None:
        statement = statement.where(model.municipality_code == code)
    for condition in conditions:
        statement = statement.where(condition)
    statement = statement.order_by(model.municipality_code, model.local_id).limit(limit).offset(offset)

    async def load() -> list[Any]:
        async with info.context.transaction() as session:
            return [build(row) for row in (await session.execute(statement)).scalars()]

    built = await cached_public(info.context, model.__tablename__, (code, limit, offset, variant), load)
    await _count_open_data_use(info)
    return built


async def _by_id(info: Info, model: type, id: strawberry.ID) -> Any:
    """The row with this `"{code}:{localId}"` id, None when unknown; BAD_USER_INPUT when malformed."""
    key = facility_id_argument(id, field="id")
    async with info.context.transaction() as session:
        return await session.get(model, key)


async def latest_observations(session: AsyncSession, gauge_ids: list[str]) -> dict[str, RiverObservationRow]:
    """Each gauge's newest observation: only those rows are loaded, not the gauges' whole history."""
    latest: dict[str, RiverObservationRow] = {}
    if not gauge_ids:
        return latest
    newest = (select(RiverObservationRow.gauge_id, func.max(RiverObservationRow.observed_at).label("at"))
              .where(RiverObservationRow.gauge_id.in_(gauge_ids)).group_by(RiverObservationRow.gauge_id).subquery())
    rows = await session.execute(
        select(RiverObservationRow).join(newest, (RiverObservationRow.gauge_id == newest.c.gauge_id)
                                         & (RiverObservationRow.observed_at == newest.c.at))
        .order_by(RiverObservationRow.gauge_id, RiverObservationRow.id.desc())
    )
    for row in rows.scalars():
        latest.setdefault(row.gauge_id, row)
    return latest


async def load_gauge(session: AsyncSession, gauge_id: str) -> Optional[RiverGauge]:
    row = await session.get(RiverGaugeRow, gauge_id)
    if row is None:
        return None
    latest = await latest_observations(session, [row.id])
    return RiverGauge.from_row(row, latest.get(row.id))


@strawberry.type
class Query:
    @strawberry.field(description="指定緊急避難場所, optionally of one municipality and designated for one hazard", directives=[SIZED_BY_LIMIT])
    async def evacuation_spaces(self, info: Info, municipality_code: Optional[str] = None,
                                hazard: Optional[HazardKind] = None,  # type: ignore[valid-type]
                                limit: int = 100, offset: int = 0) -> list[EvacuationSpace]:
        conditions = [getattr(EvacuationSpaceRow, f"hazard_{hazard.value.lower()}").is_(True)] if hazard else []
        return await _facilities(info, EvacuationSpaceRow, EvacuationSpace.from_row, municipality_code, limit,
                                 offset, *conditions, variant=hazard.value if hazard else "")

    @strawberry.field
    async def evacuation_space(self, info: Info, id: strawberry.ID) -> Optional[EvacuationSpace]:
        row = await _by_id(info, EvacuationSpaceRow, id)
        return EvacuationSpace.from_row(row) if row else None

    @strawberry.field(description="指定避難所; openOnly keeps those currently open", directives=[SIZED_BY_LIMIT])
    async def shelters(self, info: Info, municipality_code: Optional[str] = None, open_only: bool = False,
                       limit: int = 100, offset: int = 0) -> list[Shelter]:
        conditions = [ShelterRow.is_open.is_(True)] if open_only else []
        return await _facilities(info, ShelterRow, Shelter.from_row, municipality_code, limit, offset, *conditions,
                                 variant="open" if open_only else "")

    @strawberry.field
    async def shelter(self, info: Info, id: strawberry.ID) -> Optional[Shelter]:
        row = await _by_id(info, ShelterRow, id)
        return Shelter.from_row(row) if row else None

    @strawberry.field(description="AED設置箇所", directives=[SIZED_BY_LIMIT])
    async def aeds(self, info: Info, municipality_code: Optional[str] = None, pediatric_only: bool = False,
                   limit: int = 100, offset: int = 0) -> list[Aed]:
        conditions = [AedRow.pediatric.is_(True)] if pediatric_only else []
        return await _facilities(info, AedRow, Aed.from_row, municipality_code, limit, offset, *conditions,
                                 variant="pediatric" if pediatric_only else "")

    @strawberry.field
    async def aed(self, info: Info, id: strawberry.ID) -> Optional[Aed]:
        row = await _by_id(info, AedRow, id)
        return Aed.from_row(row) if row else None

    @strawberry.field(description="flood sensors of one municipality (the Kakogawa basin group has them)")
    async def flood_sensors(self, info: Info, municipality_code: str, wet_only: bool = False) -> list[FloodSensor]:
        code = municipality_code_argument(municipality_code)
        statement = select(FloodSensorRow).where(FloodSensorRow.municipality_code == code)
        if wet_only:
            statement = statement.where(FloodSensorRow.wet.is_(True))

        async def load() -> list[FloodSensor]:
            async with info.context.transaction() as session:
                rows = (await session.execute(statement.order_by(FloodSensorRow.local_id))).scalars()
                return [FloodSensor.from_row(row) for row in rows]

        result = await cached_public(info.context, "flood_sensors", (code, wet_only), load)
        await _count_open_data_use(info)
        return result

    @strawberry.field
    async def flood_sensor(self, info: Info, id: strawberry.ID) -> Optional[FloodSensor]:
        row = await _by_id(info, FloodSensorRow, id)
        return FloodSensor.from_row(row) if row else None

    @strawberry.field(description="the Kakogawa basin flood-sensor group (5市1町)")
    def kakogawa_basin(self) -> list[Municipality]:
        return [Municipality(code=strawberry.ID(code)) for code in KAKOGAWA_BASIN]

    @strawberry.field(description="river gauges with thresholds, latest observation and alert level")
    async def river_gauges(self, info: Info, municipality_code: Optional[str] = None) -> list[RiverGauge]:
        code = municipality_code_argument(municipality_code) if municipality_code is not None else None
        statement = select(RiverGaugeRow)
        if code is not None:
            statement = statement.where(RiverGaugeRow.municipality_code == code)

        async def load() -> list[RiverGauge]:
            async with info.context.transaction() as session:
                rows = list((await session.execute(statement.order_by(RiverGaugeRow.id))).scalars())
                latest = await latest_observations(session, [row.id for row in rows])
            return [RiverGauge.from_row(row, latest.get(row.id)) for row in rows]

        result = await cached_public(info.context, "river_gauges", (code,), load)
        await _count_open_data_use(info)
        return result

    @strawberry.field
    async def river_gauge(self, info: Info, id: strawberry.ID) -> Optional[RiverGauge]:
        key = facility_id_argument(id, field="id")
        async with info.context.transaction() as session:
            return await load_gauge(session, key)

    @strawberry.field(description="watch-over counts for staff of the municipality (safety:read); no personal data",
                      directives=requires_any_scope("safety:read"))
    async def watch_tag_stats(self, info: Info, municipality_code: str, hours: int = 24) -> Optional[WatchTagStats]:
        if not 0 < hours <= 24 * 366:
            raise BadUserInput("hours must be 1..8784", field="hours")
        return await watch_tag_stats(info, municipality_code_argument(municipality_code), hours)
