"""Root mutations: shelter operation, sensor and gauge reports, watch-over tags.

Each mutation runs in one transaction: a refused or invalid request raises before commit, so nothing
stored changes.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Optional

import strawberry
from sqlalchemy.exc import IntegrityError
from strawberry.types import Info

from subgraphs.common.edge_rules import requires_any_scope
from subgraphs.common.errors import BadUserInput, Conflict, NotFound
from subgraphs.common.facility_id import facility_id_argument

from . import river_levels, watch_tag_trust, watch_tags
from .access import require_device_or_staff, require_staff
from .graphql_types import FloodSensor, RiverGauge, Shelter
from .models import FloodSensor as FloodSensorRow
from .models import RiverGauge as RiverGaugeRow
from .models import RiverObservation as RiverObservationRow
from .models import Shelter as ShelterRow
from .queries import load_gauge
from .subscriptions import publish_river_alert_change, publish_sensor_triggered
from .timestamps import as_utc, utc_now
from .watch_tag_types import WatchTag

MAX_CLOCK_SKEW_SECONDS = 300


def _time_argument(value: Optional[datetime], field: str) -> datetime:
    """A client-given time (tz offset required), not in the future; default now."""
    now = utc_now()
    if value is None:
        return now
    if value.tzinfo is None:
        raise BadUserInput(f"{field} needs a time zone offset", field=field)
    value = as_utc(value)
    if (value - now).total_seconds() > MAX_CLOCK_SKEW_SECONDS:
        raise BadUserInput(f"{field} is in the future", field=field)
    return value


def _count_argument(value: Optional[int], field: str) -> Optional[int]:
    if value is not None and not 0 <= value <= 1_000_000:
        raise BadUserInput(f"{field} must be 0..1000000", field=field)
    return value


def _alert_level(gauge: Optional[RiverGauge]) -> Optional[int]:
    return gauge.latest.alert_level if gauge is not None and gauge.latest is not None else None


@strawberry.input(description="a sighting; leave detectorId out when reporting from a citizen phone")
class TagDetectionInput:
    tag_id: strawberry.ID
    latitude: float
    longitude: float
    detected_at: datetime
    detector_id: Optional[strawberry.ID] = None
    place_name: Optional[str] = None
    app_instance_id: Optional[strawberry.ID] = strawberry.field(
        default=None, description="a citizen phone's registered app instance (registerWatchApp); never stored")
    app_instance_key: Optional[str] = strawberry.field(default=None, description="that instance's key")


@strawberry.type(description="a registered installation of the citizen watch-over app")
class WatchAppRegistration:
    instance_id: strawberry.ID
    instance_key: str = strawberry.field(description="shown once; the app keeps it on the phone")


@strawberry.type(description="the same answer whether or not the tag is known: reporters learn nothing")
class DetectionReceipt:
    received: bool


async def _shelter_for_staff(session, info: Info, id: strawberry.ID) -> ShelterRow:
    """The shelter a staff mutation acts on: a well-formed id, a known shelter, staff of its
    municipality with safety:write (checked in that order, so errors say what is wrong first)."""
    row = await session.get(ShelterRow, facility_id_argument(id, field="id"))
    if row is None:
        raise NotFound("no such shelter", field="id")
    await require_staff(session, info.context.principal, row.municipality_code, write=True)
    return row


@strawberry.type
class Mutation:
    @strawberry.mutation(description="open a shelter (開設); staff of its municipality with safety:write",
                         directives=requires_any_scope("safety:write"))
    async def open_shelter(self, info: Info, id: strawberry.ID, at: Optional[datetime] = None) -> Shelter:
        when = _time_argument(at, "at")
        async with info.context.transaction() as session:
            row = await _shelter_for_staff(session, info, id)
            if row.is_open:
                raise Conflict("the shelter is already open", field="id")
            row.is_open, row.opened_at, row.closed_at = True, when, None
            row.evacuees, row.households, row.special_care = 0, 0, 0
            await session.flush()
            return Shelter.from_row(row)

    @strawberry.mutation(description="close a shelter (閉鎖); staff of its municipality with safety:write",
                         directives=requires_any_scope("safety:write"))
    async def close_shelter(self, info: Info, id: strawberry.ID, at: Optional[datetime] = None) -> Shelter:
        when = _time_argument(at, "at")
        async with info.context.transaction() as session:
            row = await _shelter_for_staff(session, info, id)
            if not row.is_open:
                raise Conflict("the shelter is not open", field="id")
            if row.opened_at is not None and when < as_utc(row.opened_at):
                raise BadUserInput("closing time is before the opening time", field="at")
            row.is_open, row.closed_at = False, when
            await session.flush()
            return Shelter.from_row(row)

    @strawberry.mutation(description="避難者数, 避難世帯数, 要配慮者数 of an open shelter",
                         directives=requires_any_scope("safety:write"))
    async def update_shelter_counts(self, info: Info, id: strawberry.ID, evacuees: int,
                                    households: Optional[int] = None, special_care: Optional[int] = None) -> Shelter:
        _count_argument(evacuees, "evacuees")
        _count_argument(households, "households")
        _count_argument(special_care, "specialCare")
        if households is not None and households > evacuees:
            raise BadUserInput("more households than evacuees", field="households")
        if special_care is not None and special_care > evacuees:
            raise BadUserInput("more special-care evacuees than evacuees", field="specialCare")
        async with info.context.transaction() as session:
            row = await _shelter_for_staff(session, info, id)
            if not row.is_open:
                raise Conflict("the shelter is not open", field="id")
            row.evacuees = evacuees
            if households is not None:
                row.households = households
            if special_care is not None:
                row.special_care = special_care
            await session.flush()
            return Shelter.from_row(row)

    @strawberry.mutation(description="set a gauge's four thresholds; they must rise strictly",
                         directives=requires_any_scope("safety:write"))
    async def set_river_thresholds(self, info: Info, gauge_id: strawberry.ID, standby: float, caution: float,
                                   evacuation_decision: float, danger: float) -> RiverGauge:
        try:
            river_levels.validate_thresholds(standby, caution, evacuation_decision, danger)
        except river_levels.ThresholdError as exc:
            raise BadUserInput(str(exc), field="thresholds") from None
        async with info.context.transaction() as session:
            row = await session.get(RiverGaugeRow, facility_id_argument(gauge_id, field="gaugeId"))
            if row is None:
                raise NotFound("no such river gauge", field="gaugeId")
            await require_staff(session, info.context.principal, row.municipality_code, write=True)
            row.standby_level, row.caution_level = standby, caution
            row.evacuation_decision_level, row.danger_level = evacuation_decision, danger
            await session.flush()
            return await load_gauge(session, row.id)

    @strawberry.mutation(description="a water-level observation, from the gauge itself or staff")
    async def record_river_observation(self, info: Info, gauge_id: strawberry.ID, level: float,
                                       observed_at: Optional[datetime] = None,
                                       flooding_observed: bool = False) -> RiverGauge:
        if not math.isfinite(level) or not -50.0 <= level <= 100.0:
            raise BadUserInput("level must be a finite number of metres (-50..100)", field="level")
        when = _time_argument(observed_at, "observedAt")
        async with info.context.transaction() as session:
            row = await session.get(RiverGaugeRow, facility_id_argument(gauge_id, field="gaugeId"))
            if row is None:
                raise NotFound("no such river gauge", field="gaugeId")
            await require_device_or_staff(session, info.context.principal, row.id, row.municipality_code)
            before = await load_gauge(session, row.id)
            observation = RiverObservationRow(gauge_id=row.id, observed_at=when, level=level,
                                              flooding_observed=flooding_observed)
            session.add(observation)
            try:
                await session.flush()
            except IntegrityError:  # the unique (gauge, time) constraint: a repeated report
                raise Conflict("an observation at this time already exists", field="observedAt") from None
            after = await load_gauge(session, row.id)
            if _alert_level(after) != _alert_level(before):
                publish_river_alert_change(session, row, observation.id)   # sent once this commits
            return after

    @strawberry.mutation(description="a flood sensor's report: wet/dry, battery, link")
    async def report_flood_sensor(self, info: Info, sensor_id: strawberry.ID, wet: bool,
                                  battery_percent: Optional[int] = None, rssi_dbm: Optional[int] = None,
                                  reported_at: Optional[datetime] = None) -> FloodSensor:
        if battery_percent is not None and not 0 <= battery_percent <= 100:
            raise BadUserInput("batteryPercent must be 0..100", field="batteryPercent")
        if rssi_dbm is not None and not -200 <= rssi_dbm <= 0:
            raise BadUserInput("rssiDbm must be -200..0", field="rssiDbm")
        when = _time_argument(reported_at, "reportedAt")
        async with info.context.transaction() as session:
            row = await session.get(FloodSensorRow, facility_id_argument(sensor_id, field="sensorId"))
            if row is None:
                raise NotFound("no such flood sensor", field="sensorId")
            await require_device_or_staff(session, info.context.principal, row.id, row.municipality_code)
            last = as_utc(row.last_report_at)
            if last is None or when >= last:  # a late, buffered report never overwrites a newer state
                if wet and not row.wet:
                    publish_sensor_triggered(session, row)   # dry -> wet; sent once this commits
                row.wet, row.last_report_at = wet, when
                if battery_percent is not None:
                    row.battery_percent = battery_percent
                if rssi_dbm is not None:
                    row.rssi_dbm = rssi_dbm
            await session.flush()
            return FloodSensor.from_row(row)

    @strawberry.mutation(description="register a watch-over tag to the signed-in resident as its guardian; "
                                     "the pairing code printed with the tag proves possession")
    async def register_watch_tag(self, info: Info, tag_id: strawberry.ID, pairing_code: str) -> WatchTag:
        async with info.context.transaction() as session:
            row = await watch_tags.register_tag(session, info.context.principal, str(tag_id), pairing_code,
                                                utc_now())
            return WatchTag(id=strawberry.ID(row.id), registered_at=as_utc(row.registered_at), active=row.active,
                            recent=[])

    @strawberry.mutation(description="register one installation of the citizen watch-over app (the app's own "
                                     "client credentials, scope safety:report); the key is shown only here",
                         directives=requires_any_scope("safety:report"))
    async def register_watch_app(self, info: Info) -> WatchAppRegistration:
        async with info.context.transaction() as session:
            instance_id, key = await watch_tag_trust.register_app_instance(session, info.context.principal,
                                                                           utc_now())
        return WatchAppRegistration(instance_id=strawberry.ID(instance_id), instance_key=key)

    @strawberry.mutation(description="report a tag sighting: a fixed detector with its own credentials, or a "
                                     "citizen phone with its registered app instance (the reporter stays anonymous)")
    async def report_tag_detection(self, info: Info, input: TagDetectionInput) -> DetectionReceipt:
        report = watch_tags.DetectionReport(
            tag_id=str(input.tag_id), detector_id=str(input.detector_id) if input.detector_id is not None else None,
            latitude=input.latitude, longitude=input.longitude, place_name=input.place_name,
            detected_at=input.detected_at,
            app_instance_id=str(input.app_instance_id) if input.app_instance_id is not None else None,
            app_instance_key=input.app_instance_key,
        )
        # The principal is passed only for fixed detectors; a phone's context is never looked at.
        principal = info.context.principal if report.detector_id is not None else None
        async with info.context.transaction() as session:
            await watch_tags.record_detection(session, principal, report, utc_now())
        return DetectionReceipt(received=True)
