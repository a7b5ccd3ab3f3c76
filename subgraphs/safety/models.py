"""Tables of the safety subgraph (sqlmodel). Facilities are keyed "{code}:{localId}".

Watch-over tags deliberately hold no child data: a tag belongs to a guardian (identity's pseudonymous
Resident id) and detections hold no reporter identity for citizen phones.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class SafetyTable(SQLModel):
    """Base of every safety table. Table names carry the `safety_` prefix because all subgraphs'
    tables share SQLModel's process-wide metadata (subgraphs/common/db.py)."""


def _timestamp(nullable: bool = True, index: bool = False) -> sa.Column:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


class OpenDataFacility(SafetyTable):
    """Columns every national facility dataset shares (自治体標準オープンデータセット)."""

    id: str = Field(primary_key=True, max_length=80)  # "{code}:{localId}"
    municipality_code: str = Field(index=True, max_length=6)  # 全国地方公共団体コード
    local_id: str = Field(max_length=72)  # ID
    municipality_name: str | None = None  # 地方公共団体名
    name: str  # 名称
    name_kana: str | None = None  # 名称_カナ
    name_en: str | None = None  # 名称_英字
    address: str | None = None  # 所在地_連結表記 (older files: 住所)
    address_prefecture: str | None = None  # 所在地_都道府県
    address_city: str | None = None  # 所在地_市区町村
    address_town: str | None = None  # 所在地_町字
    address_block: str | None = None  # 所在地_番地以下
    building: str | None = None  # 建物名等(方書)
    latitude: float | None = None  # 緯度
    longitude: float | None = None  # 経度
    elevation: float | None = None  # 標高
    phone: str | None = None  # 電話番号
    extension: str | None = None  # 内線番号
    email: str | None = None  # 連絡先メールアドレス
    postal_code: str | None = None  # 郵便番号
    url: str | None = None  # URL
    note: str | None = None  # 備考


class HazardColumns(SafetyTable):
    """災害種別_*: "1" in the CSV, a boolean here."""

    hazard_flood: bool = False
    hazard_landslide: bool = False
    hazard_storm_surge: bool = False
    hazard_earthquake: bool = False
    hazard_tsunami: bool = False
    hazard_large_fire: bool = False
    hazard_inland_flood: bool = False
    hazard_volcano: bool = False


class EvacuationSpace(OpenDataFacility, HazardColumns, table=True):
    """指定緊急避難場所."""

    __tablename__ = "safety_evacuation_space"

    also_shelter: bool = False  # 指定避難所との重複
    capacity: int | None = None  # 想定収容人数
    target_communities: str | None = None  # 対象となる町会・自治会


class Shelter(OpenDataFacility, HazardColumns, table=True):
    """指定避難所, with the operational fields of the Digital Agency shelter model."""

    __tablename__ = "safety_shelter"

    accepted_persons: str | None = None  # 受入対象者
    capacity: int | None = None  # 想定収容人数
    pets_allowed: bool = False  # ペット同行避難可否
    is_open: bool = False  # 開設状況
    opened_at: datetime | None = Field(default=None, sa_column=_timestamp())  # 開設日時
    closed_at: datetime | None = Field(default=None, sa_column=_timestamp())  # 閉鎖日時
    evacuees: int | None = None  # 避難者数 (as reported by shelter staff)
    households: int | None = None  # 避難世帯数
    special_care: int | None = None  # 要配慮者数


class Aed(OpenDataFacility, table=True):
    """AED設置箇所."""

    __tablename__ = "safety_aed"

    location_in_facility: str | None = None  # 設置位置
    available_days: str | None = None  # 利用可能曜日
    start_time: str | None = None  # 開始時間 "HH:MM"
    end_time: str | None = None  # 終了時間 "HH:MM"
    availability_note: str | None = None  # 利用可能日時特記事項
    pediatric: bool | None = None  # 小児対応設備の有無 (None: not stated)


class FloodSensor(SafetyTable, table=True):
    """A one-coin flood sensor: wet/dry plus battery and link health."""

    __tablename__ = "safety_flood_sensor"

    id: str = Field(primary_key=True, max_length=80)  # "{code}:{localId}"
    municipality_code: str = Field(index=True, max_length=6)
    local_id: str = Field(max_length=72)
    name: str  # where it is installed, e.g. an underpass or a low road
    latitude: float
    longitude: float
    wet: bool = False
    last_report_at: datetime | None = Field(default=None, sa_column=_timestamp())
    battery_percent: int | None = None
    rssi_dbm: int | None = None


class RiverGauge(SafetyTable, table=True):
    """A water-level station (局) with its four thresholds in metres."""

    __tablename__ = "safety_river_gauge"

    id: str = Field(primary_key=True, max_length=80)  # "{code}:{localId}"
    municipality_code: str = Field(index=True, max_length=6)
    local_id: str = Field(max_length=72)
    river_name: str  # 河川名
    # 水系: the river system the gauge drains to, by its main river's name ("加古川" for 国包 and 板波, and for
    # gauges on its tributaries); what `riverAlertChanged(basin:)` subscribes to
    basin: str = Field(index=True, max_length=64)
    station_name: str  # 局名
    latitude: float | None = None
    longitude: float | None = None
    standby_level: float  # 水防団待機水位
    caution_level: float  # 氾濫注意水位
    evacuation_decision_level: float  # 避難判断水位
    danger_level: float  # 氾濫危険水位


class RiverObservation(SafetyTable, table=True):
    __tablename__ = "safety_river_observation"
    __table_args__ = (sa.UniqueConstraint("gauge_id", "observed_at", name="uq_safety_river_observation_time"),)

    id: int | None = Field(default=None, primary_key=True)
    gauge_id: str = Field(foreign_key="safety_river_gauge.id", index=True, max_length=80)
    observed_at: datetime = Field(sa_column=_timestamp(nullable=False, index=True))  # 最新観測時刻
    level: float  # 河川水位 (m)
    flooding_observed: bool = False  # 氾濫発生 reported with this observation


class WatchTag(SafetyTable, table=True):
    """A BLE watch-over tag. No child name, birth date or photo: only the guardian's pseudonymous id."""

    __tablename__ = "safety_watch_tag"

    id: str = Field(primary_key=True, max_length=64)  # the identifier the tag broadcasts
    guardian_id: str = Field(index=True, max_length=64)  # identity's Resident id
    municipality_code: str = Field(index=True, max_length=6)  # for staff counts only
    registered_at: datetime = Field(sa_column=_timestamp(nullable=False))
    active: bool = True


class TagDetector(SafetyTable, table=True):
    """A fixed detector: a camera, an official or postal vehicle, a public facility."""

    __tablename__ = "safety_tag_detector"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=24)  # DetectorKind value
    municipality_code: str = Field(index=True, max_length=6)
    name: str
    latitude: float | None = None
    longitude: float | None = None


class TagDetection(SafetyTable, table=True):
    """One sighting of a tag. `detector_id` is NULL for anonymous citizen phones, and no column
    exists that could hold a phone's identity."""

    __tablename__ = "safety_tag_detection"

    id: int | None = Field(default=None, primary_key=True)
    tag_id: str = Field(foreign_key="safety_watch_tag.id", index=True, max_length=64)
    detector_id: str | None = Field(default=None, foreign_key="safety_tag_detector.id", max_length=64)
    source: str = Field(max_length=24)  # DetectorKind value; CITIZEN_PHONE when anonymous
    latitude: float
    longitude: float
    place_name: str | None = None
    detected_at: datetime = Field(sa_column=_timestamp(nullable=False, index=True))
    # How the report was authenticated (watch_tag_trust.ReportChannel): a fixed detector's own credentials, or a
    # registered app instance's key. NULL only for rows written before reports had to be authenticated.
    reported_via: str | None = Field(default=None, max_length=24)


class TagPairing(SafetyTable, table=True):
    """The pairing code printed with a tag, kept only as a salted scrypt hash: registering a tag proves
    possession of the printed code, not just knowledge of the id the tag broadcasts."""

    __tablename__ = "safety_tag_pairing"

    tag_id: str = Field(primary_key=True, max_length=64)
    code_salt: str = Field(max_length=32)       # hex
    code_hash: str = Field(max_length=64)       # hex scrypt
    provisioned_at: datetime = Field(sa_column=_timestamp(nullable=False))


class WatchAppInstance(SafetyTable, table=True):
    """One installed copy of the citizen watch-over app. Holds no person: only a random id and the SHA-256 of
    its random key (shown once at registration). Sightings never name the instance that sent them."""

    __tablename__ = "safety_watch_app_instance"

    id: str = Field(primary_key=True, max_length=40)
    key_hash: str = Field(max_length=64)
    registered_at: datetime = Field(sa_column=_timestamp(nullable=False))
    active: bool = True
