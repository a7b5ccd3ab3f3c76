"""Deterministic synthetic data for the safety platform: Kakogawa and the basin (5市1町).

Municipality codes and place names (町字) are real; every facility, sensor, detector, threshold and
reading is invented. Watch tags belong to guardians from the shared roster. Running it twice leaves the
same rows (everything is merged by a fixed id).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import co_use
from subgraphs.common.municipality import HARIMA, KAKOGAWA, KATO, MUNICIPALITIES, NISHIWAKI, ONO, SANDA
from subgraphs.common.roster import by_label

from .models import (
    Aed,
    EvacuationSpace,
    FloodSensor,
    RiverGauge,
    RiverObservation,
    Shelter,
    TagDetection,
    TagDetector,
    TagPairing,
    WatchTag,
)
from .timestamps import as_utc, utc_now
from .watch_tag_trust import ReportChannel, demo_pairing_code, pairing_row
from .watch_tags import DetectorKind

# Every time in the seed is relative to a reference time `now`: `seed(session)` uses the current time (so a fresh
# dev stack shows sensors that reported minutes ago and current gauge readings); given the same `now` the data
# is the same. SEED_TIME is a fixed reference for reproducible fixtures (tests pass it as `now`).
SEED_TIME = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)

# (municipality, 町字, latitude, longitude): real place names, approximate positions.
PLACES: dict[str, tuple[tuple[str, float, float], ...]] = {
    KAKOGAWA: (
        ("加古川町寺家町", 34.7570, 134.8410), ("尾上町口里", 34.7345, 134.8380), ("平岡町新在家", 34.7560, 134.8760),
        ("野口町良野", 34.7680, 134.8560), ("別府町本町", 34.7240, 134.8480), ("神野町神野", 34.7930, 134.8630),
        ("八幡町下村", 34.8160, 134.8740), ("上荘町国包", 34.8170, 134.8440), ("志方町志方町", 34.8060, 134.7830),
        ("東神吉町神吉", 34.7860, 134.8210),
    ),
    SANDA: (("三輪", 34.8890, 135.2240), ("武庫が丘", 34.8760, 135.1990)),
    NISHIWAKI: (("板波町", 34.9930, 134.9730), ("西脇", 34.9930, 134.9690)),
    ONO: (("王子町", 34.8530, 134.9300), ("中島町", 34.8550, 134.9270)),
    KATO: (("社", 34.9170, 134.9980), ("滝野", 34.9440, 134.9700)),
    HARIMA: (("東本荘", 34.7140, 134.8680), ("古宮", 34.7090, 134.8610)),
}

HAZARD_PATTERNS = (  # flood, landslide, storm surge, earthquake, tsunami, large fire, inland flood, volcano
    (True, False, False, True, False, True, True, False),
    (False, False, False, True, False, True, False, False),
    (True, True, False, True, False, False, True, False),
    (True, False, True, True, True, True, True, False),
)
HAZARD_NAMES = ("flood", "landslide", "storm_surge", "earthquake", "tsunami", "large_fire", "inland_flood", "volcano")


def _hazards(index: int) -> dict[str, bool]:
    return {f"hazard_{name}": flag for name, flag in zip(HAZARD_NAMES, HAZARD_PATTERNS[index % len(HAZARD_PATTERNS)])}


def _facility(code: str, local_id: str, name: str, town: str, lat: float, lon: float) -> dict:
    city = MUNICIPALITIES[code].name
    return {
        "id": f"{code}:{local_id}", "municipality_code": code, "local_id": local_id, "municipality_name": city,
        "name": name, "address": f"兵庫県{city}{town}", "address_prefecture": "兵庫県", "address_city": city,
        "address_town": town, "latitude": round(lat, 5), "longitude": round(lon, 5),
    }


def evacuation_spaces() -> list[EvacuationSpace]:
    rows = []
    for code, places in PLACES.items():
        for n, (town, lat, lon) in enumerate(places, start=1):
            rows.append(EvacuationSpace(
                **_facility(code, f"E{n:03d}", f"{town}グラウンド(模擬)", town, lat + 0.0012, lon - 0.0009),
                **_hazards(n), also_shelter=n % 2 == 0, capacity=300 + 150 * n,
                target_communities=f"{town}自治会",
            ))
    return rows


def shelters(now: datetime) -> list[Shelter]:
    rows = []
    for code, places in PLACES.items():
        for n, (town, lat, lon) in enumerate(places, start=1):
            is_open = code == KAKOGAWA and n in (1, 2, 8)  # a flood watch has opened three in Kakogawa
            capacity = 120 + 40 * n
            evacuees = {1: 40, 2: 170, 8: 200}.get(n, 0) if is_open else None
            rows.append(Shelter(
                **_facility(code, f"S{n:03d}", f"{town}地区避難所(模擬)", town, lat, lon),
                **_hazards(n + 1), accepted_persons="地区住民" if n % 3 else "地区住民、要配慮者",
                capacity=capacity, pets_allowed=n % 2 == 1, is_open=is_open,
                opened_at=now - timedelta(hours=5) if is_open else None,
                evacuees=evacuees, households=(evacuees // 2 if evacuees is not None else None),
                special_care=(evacuees // 10 if evacuees is not None else None),
            ))
    return rows


def aeds() -> list[Aed]:
    rows = []
    for code, places in PLACES.items():
        for n, (town, lat, lon) in enumerate(places, start=1):
            rows.append(Aed(
                **_facility(code, f"A{n:03d}", f"{town}コミュニティセンター(模擬)", town, lat - 0.0008, lon + 0.0011),
                location_in_facility="1階 玄関ホール", available_days="月火水木金" if n % 2 else "月火水木金土日",
                start_time="08:30" if n % 2 else "00:00", end_time="17:15" if n % 2 else "24:00",
                availability_note="年末年始を除く" if n % 2 else None, pediatric=n % 3 != 0,
            ))
    return rows


def _last_report(now: datetime, index: int) -> datetime | None:
    """Most sensors reported within their heartbeat (1 h); a few show the unhealthy states: never reported
    (index 11, 22: OFFLINE) and three missed heartbeats (index 19: STALE). Battery (13) and link (17) below."""
    if index % 11 == 0:
        return None
    if index == 19:
        return now - timedelta(hours=3)
    return now - timedelta(minutes=3 + 7 * (index % 8))


def flood_sensors(now: datetime) -> list[FloodSensor]:
    rows = []
    for code, places in PLACES.items():
        for n, (town, lat, lon) in enumerate(places, start=1):
            for k in (1, 2):
                index = n * 2 + k
                rows.append(FloodSensor(
                    id=f"{code}:W{n:02d}{k}", municipality_code=code, local_id=f"W{n:02d}{k}",
                    name=f"{town} {'アンダーパス' if k == 1 else '水路沿い'}(模擬)",
                    latitude=round(lat + 0.002 * k, 5), longitude=round(lon - 0.002 * k, 5),
                    wet=code == KAKOGAWA and index % 7 == 0,
                    last_report_at=_last_report(now, index),
                    battery_percent=15 if index % 13 == 0 else 60 + index % 40,
                    rssi_dbm=-125 if index % 17 == 0 else -95 - index % 20,
                ))
    return rows


# 国包 (加古川市上荘町国包) and 板波 (西脇市板波町) on the 加古川; thresholds are synthetic.
GAUGES = (
    RiverGauge(id=f"{KAKOGAWA}:KUNIKANE", municipality_code=KAKOGAWA, local_id="KUNIKANE", river_name="加古川", basin="加古川",
               station_name="国包", latitude=34.8175, longitude=134.8452, standby_level=3.0, caution_level=4.0,
               evacuation_decision_level=5.2, danger_level=5.8),
    RiverGauge(id=f"{NISHIWAKI}:ITANAMI", municipality_code=NISHIWAKI, local_id="ITANAMI", river_name="加古川", basin="加古川",
               station_name="板波", latitude=34.9925, longitude=134.9741, standby_level=2.5, caution_level=3.5,
               evacuation_decision_level=4.3, danger_level=4.9),
)
OBSERVATION_LEVELS = {"KUNIKANE": (2.1, 3.4, 4.2), "ITANAMI": (1.8, 2.0, 2.2)}


def river_gauges() -> list[RiverGauge]:
    return [RiverGauge(**gauge.model_dump()) for gauge in GAUGES]


def river_observations(now: datetime) -> list[RiverObservation]:
    rows = []
    for gauge in GAUGES:
        levels = OBSERVATION_LEVELS[gauge.local_id]
        for step, level in enumerate(levels):
            rows.append(RiverObservation(gauge_id=gauge.id, level=level, flooding_observed=False,
                                         observed_at=now - timedelta(minutes=10 * (len(levels) - 1 - step))))
    return rows


def detectors() -> list[TagDetector]:
    spots = PLACES[KAKOGAWA]
    return [
        TagDetector(id="det-kakogawa-cam-001", kind=DetectorKind.CAMERA.value, municipality_code=KAKOGAWA,
                    name="寺家町 見守りカメラ(模擬)", latitude=spots[0][1], longitude=spots[0][2]),
        TagDetector(id="det-kakogawa-cam-002", kind=DetectorKind.CAMERA.value, municipality_code=KAKOGAWA,
                    name="尾上町 見守りカメラ(模擬)", latitude=spots[1][1], longitude=spots[1][2]),
        TagDetector(id="det-kakogawa-cam-003", kind=DetectorKind.CAMERA.value, municipality_code=KAKOGAWA,
                    name="平岡町 見守りカメラ(模擬)", latitude=spots[2][1], longitude=spots[2][2]),
        TagDetector(id="det-kakogawa-car-001", kind=DetectorKind.OFFICIAL_VEHICLE.value, municipality_code=KAKOGAWA,
                    name="公用車 1号(模擬)"),
        TagDetector(id="det-kakogawa-post-001", kind=DetectorKind.POSTAL_VEHICLE.value, municipality_code=KAKOGAWA,
                    name="郵便車両(模擬)"),
        TagDetector(id="det-kakogawa-fac-001", kind=DetectorKind.FACILITY.value, municipality_code=KAKOGAWA,
                    name="野口町 公共施設(模擬)", latitude=spots[3][1], longitude=spots[3][2]),
        TagDetector(id="det-ono-cam-001", kind=DetectorKind.CAMERA.value, municipality_code=ONO,
                    name="王子町 見守りカメラ(模擬)", latitude=PLACES[ONO][0][1], longitude=PLACES[ONO][0][2]),
    ]


# Tags of guardians from the roster (the tag never says which child carries it).
TAG_GUARDIANS = (
    ("tag-kakogawa-0001", "kakogawa-1/makoto"),
    ("tag-kakogawa-0002", "kakogawa-1/makoto"),
    ("tag-kakogawa-0003", "kakogawa-1/megumi"),
    ("tag-ono-0001", "ono-1/takuya"),
)


# Tags provisioned with a pairing code but not registered by anyone yet (demo_pairing_code gives their codes).
UNCLAIMED_TAGS = ("tag-kakogawa-0101", "tag-kakogawa-0102", "tag-kato-0001", "tag-taka-0001", "tag-anon-0001")


def tag_pairings(now: datetime) -> list[TagPairing]:
    """Every demo tag's printed code, hashed; the salt is derived from the id so seeding again changes nothing."""
    tag_ids = [tag_id for tag_id, _ in TAG_GUARDIANS] + list(UNCLAIMED_TAGS)
    return [pairing_row(t, demo_pairing_code(t), now, salt=hashlib.sha256(t.encode()).digest()[:16])
            for t in tag_ids]


def watch_tags(now: datetime) -> list[WatchTag]:
    rows = []
    for n, (tag_id, label) in enumerate(TAG_GUARDIANS):
        guardian = by_label(label)
        rows.append(WatchTag(id=tag_id, guardian_id=guardian.id, municipality_code=guardian.municipality_code,
                             registered_at=now - timedelta(days=90 - n), active=True))
    return rows


# (tag, detector or None for an anonymous phone, minutes before now, place for phones)
DETECTIONS = (
    ("tag-kakogawa-0001", "det-kakogawa-cam-001", 400, None),
    ("tag-kakogawa-0001", "det-kakogawa-post-001", 300, None),
    ("tag-kakogawa-0001", None, 200, ("加古川町寺家町", 34.7581, 134.8427)),
    ("tag-kakogawa-0001", "det-kakogawa-cam-002", 90, None),
    ("tag-kakogawa-0002", "det-kakogawa-fac-001", 250, None),
    ("tag-kakogawa-0002", None, 60, ("野口町良野", 34.7690, 134.8571)),
    ("tag-kakogawa-0003", "det-kakogawa-car-001", 30, None),
    ("tag-ono-0001", "det-ono-cam-001", 120, None),
)


def tag_detections(now: datetime) -> list[TagDetection]:
    by_id = {d.id: d for d in detectors()}
    rows = []
    for n, (tag_id, detector_id, minutes, phone_place) in enumerate(DETECTIONS, start=1):
        if detector_id is None:
            place, lat, lon = phone_place
            source = DetectorKind.CITIZEN_PHONE.value
        else:
            detector = by_id[detector_id]
            place, lat, lon = None, detector.latitude, detector.longitude
            if lat is None:  # a moving vehicle reports where it was
                lat, lon = 34.7600 + 0.001 * n, 134.8450 + 0.001 * n
            source = detector.kind
        channel = ReportChannel.REGISTERED_APP if detector_id is None else ReportChannel.FIXED_DETECTOR
        rows.append(TagDetection(tag_id=tag_id, detector_id=detector_id, source=source, latitude=lat,
                                 longitude=lon, place_name=place, detected_at=now - timedelta(minutes=minutes),
                                 reported_via=channel.value))
    return rows


async def _add_missing_events(session: AsyncSession, rows: list, model: type, key: tuple[str, ...]) -> None:
    """Events have database-generated ids, so they are matched on their natural key instead of merged."""
    existing = {tuple(getattr(r, k) for k in key) for r in (await session.execute(select(model))).scalars()}
    existing = {tuple(as_utc(v) if isinstance(v, datetime) else v for v in item) for item in existing}
    for row in rows:
        if tuple(getattr(row, k) for k in key) not in existing:
            session.add(row)


async def seed(session: AsyncSession, now: datetime | None = None) -> dict[str, int]:
    """Merge the synthetic data into `session` (the caller commits). Returns rows per kind.

    `now` (default: the current minute) is the reference time of every reading. Seeding again later refreshes
    the facilities and sensors and adds the gauge readings and tag sightings of the new reference time, the way
    new reports would arrive; seeding again with the same `now` changes nothing."""
    now = as_utc(now) if now is not None else utc_now().replace(second=0, microsecond=0)
    await co_use.seed_memberships(session)
    entities = {
        "evacuation_spaces": evacuation_spaces(), "shelters": shelters(now), "aeds": aeds(),
        "flood_sensors": flood_sensors(now), "river_gauges": river_gauges(), "tag_detectors": detectors(),
        "watch_tags": watch_tags(now), "tag_pairings": tag_pairings(now),
    }
    for rows in entities.values():
        for row in rows:
            await session.merge(row)
    await session.flush()  # parents before the events that reference them
    observations, detections = river_observations(now), tag_detections(now)
    await _add_missing_events(session, observations, RiverObservation, ("gauge_id", "observed_at"))
    await _add_missing_events(session, detections, TagDetection, ("tag_id", "detector_id", "detected_at"))
    await session.flush()
    counts = {kind: len(rows) for kind, rows in entities.items()}
    counts.update(river_observations=len(observations), tag_detections=len(detections))
    return counts


async def seed_sandbox(session: AsyncSession, now: datetime | None = None) -> None:
    """The trial sandbox: open data only (shelters, evacuation spaces, AEDs, gauges). Watch tags belong to real
    guardians and stay out; a trial shows watch-over with no tags registered."""
    now = as_utc(now) if now is not None else utc_now().replace(second=0, microsecond=0)
    for rows in (evacuation_spaces(), shelters(now), aeds(), river_gauges()):
        for row in rows:
            await session.merge(row)
    await session.flush()
