"""GraphQL types of the safety subgraph. Open-data types are built from their rows (`from_row`)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

import strawberry
from strawberry.types import Info

from subgraphs.common.errors import NotFound

from . import river_levels, sensor_health, vacancy
from .entity_loaders import load_entity_row
from .hazards import HAZARD_LABELS, HazardFlags
from .models import Aed as AedRow
from .models import EvacuationSpace as EvacuationSpaceRow
from .models import FloodSensor as FloodSensorRow
from .models import RiverGauge as RiverGaugeRow
from .models import RiverObservation as RiverObservationRow
from .models import Shelter as ShelterRow
from .timestamps import as_utc, utc_now

HazardKind = strawberry.enum(
    enum.Enum("HazardKind", {key.upper(): key.upper() for key in HAZARD_LABELS}),
    description="災害種別 of the national evacuation-space dataset",
)
Vacancy = strawberry.enum(vacancy.Vacancy, description="空き状況 derived from 想定収容人数 and 避難者数")
SensorHealth = strawberry.enum(sensor_health.SensorHealth)
RiverStage = strawberry.enum(river_levels.RiverStage, description="the highest threshold the water has reached")


@strawberry.type(description="災害種別: the hazards a place is designated for")
class Hazards:
    flood: bool
    landslide: bool = strawberry.field(description="崖崩れ、土石流及び地滑り")
    storm_surge: bool
    earthquake: bool
    tsunami: bool
    large_fire: bool
    inland_flood: bool
    volcano: bool

    @strawberry.field
    def designated(self) -> list[HazardKind]:  # type: ignore[valid-type]
        flags = HazardFlags(**{key: getattr(self, key) for key in HAZARD_LABELS})
        return [HazardKind[name.upper()] for name in flags.designated()]

    @classmethod
    def from_row(cls, row: Any) -> Hazards:
        return cls(**{key: bool(getattr(row, f"hazard_{key}")) for key in HAZARD_LABELS})


def _facility_values(row: Any) -> dict[str, Any]:
    return {
        "id": strawberry.ID(row.id), "municipality_code": row.municipality_code, "local_id": row.local_id,
        "municipality_name": row.municipality_name, "name": row.name, "name_kana": row.name_kana,
        "name_en": row.name_en, "address": row.address, "address_prefecture": row.address_prefecture,
        "address_city": row.address_city, "address_town": row.address_town, "address_block": row.address_block,
        "building": row.building, "latitude": row.latitude, "longitude": row.longitude,
        "elevation": row.elevation, "phone": row.phone, "extension": row.extension, "email": row.email,
        "postal_code": row.postal_code, "url": row.url, "note": row.note,
    }


@strawberry.type
class FacilityColumns:
    """The common columns of the national facility datasets (not exposed as a type of its own)."""

    id: strawberry.ID = strawberry.field(description='"{全国地方公共団体コード}:{ID}"')
    municipality_code: str = strawberry.field(description="全国地方公共団体コード (6 digits)")
    local_id: str = strawberry.field(description="ID")
    municipality_name: Optional[str] = strawberry.field(description="地方公共団体名")
    name: str = strawberry.field(description="名称")
    name_kana: Optional[str] = strawberry.field(description="名称_カナ")
    name_en: Optional[str] = strawberry.field(description="名称_英字")
    address: Optional[str] = strawberry.field(description="所在地_連結表記")
    address_prefecture: Optional[str] = strawberry.field(description="所在地_都道府県")
    address_city: Optional[str] = strawberry.field(description="所在地_市区町村")
    address_town: Optional[str] = strawberry.field(description="所在地_町字")
    address_block: Optional[str] = strawberry.field(description="所在地_番地以下")
    building: Optional[str] = strawberry.field(description="建物名等(方書)")
    latitude: Optional[float] = strawberry.field(description="緯度")
    longitude: Optional[float] = strawberry.field(description="経度")
    elevation: Optional[float] = strawberry.field(description="標高")
    phone: Optional[str] = strawberry.field(description="電話番号")
    extension: Optional[str] = strawberry.field(description="内線番号")
    email: Optional[str] = strawberry.field(description="連絡先メールアドレス")
    postal_code: Optional[str] = strawberry.field(description="郵便番号")
    url: Optional[str] = strawberry.field(description="URL")
    note: Optional[str] = strawberry.field(description="備考")




@strawberry.federation.type(keys=["id"], description="指定緊急避難場所 (national open data)")
class EvacuationSpace(FacilityColumns):
    hazards: Hazards
    also_shelter: bool = strawberry.field(description="指定避難所との重複")
    capacity: Optional[int] = strawberry.field(description="想定収容人数")
    target_communities: Optional[str] = strawberry.field(description="対象となる町会・自治会")

    @classmethod
    def from_row(cls, row: EvacuationSpaceRow) -> EvacuationSpace:
        return cls(**_facility_values(row), hazards=Hazards.from_row(row), also_shelter=row.also_shelter,
                   capacity=row.capacity, target_communities=row.target_communities)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> EvacuationSpace:
        return cls.from_row(await load_entity_row(info, EvacuationSpaceRow, id, "evacuation space"))


# No description here: the type is shared with identity (Shelter.occupancy), and differing
# descriptions across subgraphs are a composition hint.
@strawberry.federation.type(keys=["id"])
class Shelter(FacilityColumns):
    """指定避難所 with its operating state (the description lives in this comment, not the SDL)."""

    hazards: Hazards
    accepted_persons: Optional[str] = strawberry.field(description="受入対象者")
    capacity: Optional[int] = strawberry.field(description="想定収容人数")
    pets_allowed: bool = strawberry.field(description="ペット同行避難可否")
    is_open: bool = strawberry.field(description="開設状況")
    opened_at: Optional[datetime] = strawberry.field(description="開設日時")
    closed_at: Optional[datetime] = strawberry.field(description="閉鎖日時")
    evacuees: Optional[int] = strawberry.field(description="避難者数 as reported by shelter staff")
    households: Optional[int] = strawberry.field(description="避難世帯数")
    special_care: Optional[int] = strawberry.field(description="要配慮者数")

    @strawberry.field(description="空き状況")
    def vacancy(self) -> Vacancy:  # type: ignore[valid-type]
        return vacancy.vacancy(self.is_open, self.capacity, self.evacuees)

    @strawberry.field(description="places left while open; null when closed or not known")
    def remaining_places(self) -> Optional[int]:
        return vacancy.remaining_places(self.is_open, self.capacity, self.evacuees)

    @classmethod
    def from_row(cls, row: ShelterRow) -> Shelter:
        return cls(**_facility_values(row), hazards=Hazards.from_row(row), accepted_persons=row.accepted_persons,
                   capacity=row.capacity, pets_allowed=row.pets_allowed, is_open=row.is_open,
                   opened_at=as_utc(row.opened_at), closed_at=as_utc(row.closed_at), evacuees=row.evacuees,
                   households=row.households, special_care=row.special_care)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Shelter:
        return cls.from_row(await load_entity_row(info, ShelterRow, id, "shelter"))


@strawberry.federation.type(keys=["id"], description="AED設置箇所 (national open data)")
class Aed(FacilityColumns):
    location_in_facility: Optional[str] = strawberry.field(description="設置位置")
    available_days: Optional[str] = strawberry.field(description="利用可能曜日")
    start_time: Optional[str] = strawberry.field(description="開始時間 (HH:MM)")
    end_time: Optional[str] = strawberry.field(description="終了時間 (HH:MM)")
    availability_note: Optional[str] = strawberry.field(description="利用可能日時特記事項")
    pediatric: Optional[bool] = strawberry.field(description="小児対応設備の有無; null when not stated")

    @classmethod
    def from_row(cls, row: AedRow) -> Aed:
        return cls(**_facility_values(row), location_in_facility=row.location_in_facility,
                   available_days=row.available_days, start_time=row.start_time, end_time=row.end_time,
                   availability_note=row.availability_note, pediatric=row.pediatric)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Aed:
        return cls.from_row(await load_entity_row(info, AedRow, id, "AED"))


@strawberry.federation.type(keys=["id"], description="one-coin flood sensor: wet/dry, battery and link")
class FloodSensor:
    id: strawberry.ID
    municipality_code: str
    local_id: str
    name: str
    latitude: float
    longitude: float
    wet: bool
    last_report_at: Optional[datetime]
    battery_percent: Optional[int]
    rssi_dbm: Optional[int]

    @strawberry.field
    def health(self) -> SensorHealth:  # type: ignore[valid-type]
        return sensor_health.sensor_health(utc_now(), self.last_report_at, self.battery_percent, self.rssi_dbm)

    @classmethod
    def from_row(cls, row: FloodSensorRow) -> FloodSensor:
        return cls(id=strawberry.ID(row.id), municipality_code=row.municipality_code, local_id=row.local_id,
                   name=row.name, latitude=row.latitude, longitude=row.longitude, wet=row.wet,
                   last_report_at=as_utc(row.last_report_at), battery_percent=row.battery_percent,
                   rssi_dbm=row.rssi_dbm)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> FloodSensor:
        return cls.from_row(await load_entity_row(info, FloodSensorRow, id, "flood sensor"))


@strawberry.type(description="the four thresholds, metres, rising")
class RiverThresholds:
    standby: float = strawberry.field(description="水防団待機水位")
    caution: float = strawberry.field(description="氾濫注意水位")
    evacuation_decision: float = strawberry.field(description="避難判断水位")
    danger: float = strawberry.field(description="氾濫危険水位")

    def as_domain(self) -> river_levels.GaugeThresholds:
        return river_levels.GaugeThresholds(self.standby, self.caution, self.evacuation_decision, self.danger)


@strawberry.type
class RiverObservation:
    observed_at: datetime = strawberry.field(description="観測時刻")
    level: float = strawberry.field(description="河川水位 (m)")
    flooding_observed: bool = strawberry.field(description="氾濫発生 reported")
    stage: RiverStage  # type: ignore[valid-type]
    alert_level: Optional[int] = strawberry.field(description="警戒レベル相当 (1-5), null below 水防団待機水位")

    @classmethod
    def from_row(cls, row: RiverObservationRow, thresholds: RiverThresholds) -> RiverObservation:
        domain = thresholds.as_domain()
        stage = river_levels.river_stage(row.level, domain, row.flooding_observed)
        return cls(observed_at=as_utc(row.observed_at), level=row.level, flooding_observed=row.flooding_observed,
                   stage=stage, alert_level=river_levels.ALERT_LEVEL_BY_STAGE[stage])


@strawberry.federation.type(keys=["id"], description="river water-level station (水位観測所)")
class RiverGauge:
    id: strawberry.ID
    municipality_code: str
    river_name: str = strawberry.field(description="河川名")
    basin: str = strawberry.field(description='水系 (river system), named by its main river, e.g. "加古川"')
    station_name: str = strawberry.field(description="局名")
    latitude: Optional[float]
    longitude: Optional[float]
    thresholds: RiverThresholds
    latest: Optional[RiverObservation] = strawberry.field(description="最新観測 (河川水位, 最新観測時刻)")

    @strawberry.field(description="警戒レベル相当 of the latest observation; null when normal or unobserved")
    def alert_level(self) -> Optional[int]:
        return self.latest.alert_level if self.latest else None

    @classmethod
    def from_row(cls, row: RiverGaugeRow, latest: RiverObservationRow | None) -> RiverGauge:
        thresholds = RiverThresholds(standby=row.standby_level, caution=row.caution_level,
                                     evacuation_decision=row.evacuation_decision_level, danger=row.danger_level)
        return cls(id=strawberry.ID(row.id), municipality_code=row.municipality_code, river_name=row.river_name,
                   basin=row.basin, station_name=row.station_name, latitude=row.latitude, longitude=row.longitude,
                   thresholds=thresholds,
                   latest=RiverObservation.from_row(latest, thresholds) if latest else None)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> RiverGauge:
        from .queries import load_gauge  # queries imports this module

        async with info.context.transaction() as session:
            gauge = await load_gauge(session, str(id))
        if gauge is None:
            raise NotFound(f"safety holds no river gauge {str(id)!r}", id=str(id))
        return gauge
