"""Watch-over tags (見守りタグ): registration, detections, the guardian's history, staff counts.

Privacy rules this module keeps:
- a tag record names its guardian (identity's pseudonymous Resident id) and nothing about the child;
- a citizen phone's report stores tag, place and time only: no reporter column exists, and whatever
  context the phone sent is never looked at; the phone gets the same receipt whether or not the tag
  is known, so reporting reveals nothing about the tag;
- history goes to the tag's guardian only (staff included get counts, not places), each read audited.
"""

from __future__ import annotations

import enum
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit, co_use
from subgraphs.common.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from subgraphs.common.my_number_guard import refuse_my_number

from . import watch_tag_trust
from .access import PLATFORM
from .models import TagDetection, TagDetector, WatchTag
from .timestamps import as_utc

TAG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{3,63}$")
# Phones buffer reports while offline; anything older than this is not a useful sighting.
MAX_REPORT_AGE = timedelta(days=7)
MAX_CLOCK_SKEW = timedelta(minutes=5)
HISTORY_FIELDS = ("watchTags.id", "watchTags.detections")


class DetectorKind(enum.Enum):
    CAMERA = "CAMERA"  # street cameras with a BLE receiver
    OFFICIAL_VEHICLE = "OFFICIAL_VEHICLE"  # 公用車
    POSTAL_VEHICLE = "POSTAL_VEHICLE"  # 郵便車両
    FACILITY = "FACILITY"  # public facilities
    CITIZEN_PHONE = "CITIZEN_PHONE"  # volunteers' app, always anonymous


def validate_tag_id(tag_id: str) -> str:
    if not isinstance(tag_id, str) or not TAG_ID.match(tag_id):
        raise BadUserInput("tagId must be 4-64 letters, digits or . _ : -", field="tagId")
    return refuse_my_number(tag_id, "tagId")


def validate_detector_id(detector_id: str) -> str:
    """Detector ids follow the tag id pattern (e.g. "det-kakogawa-cam-001")."""
    if not isinstance(detector_id, str) or not TAG_ID.match(detector_id):
        raise BadUserInput("detectorId must be 4-64 letters, digits or . _ : -", field="detectorId")
    return refuse_my_number(detector_id, "detectorId")


def validate_place(latitude: float, longitude: float) -> None:
    for name, value, bound in (("latitude", latitude, 90.0), ("longitude", longitude, 180.0)):
        if not math.isfinite(value) or not -bound <= value <= bound:
            raise BadUserInput(f"{name} must be within ±{bound:g}", field=name)


def validate_report_time(detected_at: datetime, now: datetime) -> datetime:
    if detected_at.tzinfo is None:
        raise BadUserInput("detectedAt needs a time zone offset", field="detectedAt")
    detected_at = as_utc(detected_at)
    if detected_at > now + MAX_CLOCK_SKEW:
        raise BadUserInput("detectedAt is in the future", field="detectedAt")
    if detected_at < now - MAX_REPORT_AGE:
        raise BadUserInput("detectedAt is too old to report", field="detectedAt")
    return detected_at


async def register_tag(session: AsyncSession, principal: Any | None, tag_id: str, pairing_code: str,
                       now: datetime) -> WatchTag:
    """A resident registers a tag to themselves as its guardian, proving possession with its pairing code."""
    validate_tag_id(tag_id)
    if principal is None:
        raise Unauthenticated("registering a tag needs a signed-in guardian")
    if "vendor" in principal.roles or "device" in principal.roles or not (
        {"resident", "guardian"} & set(principal.roles)
    ):
        raise Forbidden("only a resident can register a watch-over tag")
    if not principal.municipality:
        raise Forbidden("the guardian's municipality is unknown")
    await co_use.ensure_joined(session, PLATFORM, principal.municipality)
    await watch_tag_trust.check_pairing(session, principal, tag_id, pairing_code)
    if await session.get(WatchTag, tag_id) is not None:
        raise Conflict("this tag is already registered", field="tagId")
    tag = WatchTag(id=tag_id, guardian_id=principal.subject, municipality_code=principal.municipality,
                   registered_at=now, active=True)
    session.add(tag)
    await session.flush()
    await audit.record(session, principal, principal.subject, ("watchTags.id",), "register watch-over tag",
                       "written", subject_municipality=principal.municipality, subgraph=PLATFORM)
    await co_use.count_usage(session, PLATFORM, principal.municipality, records=1)
    return tag


@dataclass(frozen=True)
class DetectionReport:
    tag_id: str
    detector_id: str | None  # None: an anonymous citizen phone
    latitude: float
    longitude: float
    place_name: str | None
    detected_at: datetime
    app_instance_id: str | None = None    # a citizen phone's registered app instance (never stored)
    app_instance_key: str | None = None


async def record_detection(session: AsyncSession, principal: Any | None, report: DetectionReport,
                           now: datetime) -> None:
    """Store one sighting. Unknown or inactive tags are dropped silently (same answer to the reporter)."""
    validate_tag_id(report.tag_id)
    validate_place(report.latitude, report.longitude)
    detected_at = validate_report_time(report.detected_at, now)
    place_name = refuse_my_number((report.place_name or "").strip()[:200] or None, "placeName")
    if report.detector_id is None:
        # principal deliberately unused: the phone stays anonymous; its app instance vouches for the report
        await watch_tag_trust.check_app_instance(session, report.app_instance_id, report.app_instance_key)
        source = DetectorKind.CITIZEN_PHONE.value
        channel = watch_tag_trust.ReportChannel.REGISTERED_APP.value
    else:
        if principal is None:
            raise Unauthenticated("a fixed detector reports with its own credentials")
        detector = await session.get(TagDetector, validate_detector_id(report.detector_id))
        if detector is None:
            raise NotFound("unknown detector", field="detectorId")
        if "device" not in principal.roles or principal.subject != detector.id:
            raise Forbidden("a detector can report only as itself")
        source = detector.kind
        channel = watch_tag_trust.ReportChannel.FIXED_DETECTOR.value
        await co_use.count_usage(session, PLATFORM, detector.municipality_code, records=1)
    tag = await session.get(WatchTag, report.tag_id)
    if tag is None or not tag.active:
        return
    session.add(TagDetection(tag_id=tag.id, detector_id=report.detector_id, source=source,
                             latitude=report.latitude, longitude=report.longitude, place_name=place_name,
                             detected_at=detected_at, reported_via=channel))
    await session.flush()


async def guardian_tags(session: AsyncSession, principal: Any | None, guardian_id: str,
                        database: Any | None) -> list[WatchTag]:
    """The guardian's own tags; anyone else (staff too) is refused, and every attempt is audited."""
    allowed = (
        principal is not None
        and principal.subject == guardian_id
        and "vendor" not in principal.roles
        and "device" not in principal.roles
    )
    municipality = principal.municipality if principal is not None else None
    if not allowed:
        await _audit_in_own_transaction(session, database, principal, guardian_id, "denied")
        if principal is None:
            raise Unauthenticated("a tag's history is shown only to its signed-in guardian")
        raise Forbidden("a tag's history is shown only to its guardian")
    if not await co_use.joined(session, PLATFORM, municipality):
        await _audit_in_own_transaction(session, database, principal, guardian_id, "not-joined")
        await co_use.ensure_joined(session, PLATFORM, municipality)
    tags = list((await session.execute(
        select(WatchTag).where(WatchTag.guardian_id == guardian_id).order_by(WatchTag.registered_at, WatchTag.id)
    )).scalars())
    await audit.record(session, principal, guardian_id, HISTORY_FIELDS, "guardian views watch-over history",
                       "permitted", subject_municipality=municipality, subgraph=PLATFORM)
    await co_use.count_usage(session, PLATFORM, municipality, records=len(tags))
    return tags


async def _audit_in_own_transaction(session: AsyncSession, database: Any | None, principal: Any | None,
                                    guardian_id: str, result: str) -> None:
    """A refusal is recorded even though the request's own transaction rolls back with the error."""
    args = (principal, guardian_id, HISTORY_FIELDS, "guardian views watch-over history", result)
    if database is None:
        await audit.record(session, *args, subgraph=PLATFORM)
        return
    async with database.transaction() as own:
        await audit.record(own, *args, subgraph=PLATFORM)


async def detections_of(session: AsyncSession, tag_id: str, limit: int) -> list[tuple[TagDetection, TagDetector | None]]:
    rows = await session.execute(
        select(TagDetection, TagDetector)
        .outerjoin(TagDetector, TagDetection.detector_id == TagDetector.id)
        .where(TagDetection.tag_id == tag_id)
        .order_by(TagDetection.detected_at.desc(), TagDetection.id.desc())
        .limit(limit)
    )
    return [(detection, detector) for detection, detector in rows.all()]


@dataclass(frozen=True)
class TagCounts:
    municipality_code: str
    registered_tags: int
    active_tags: int
    detections_since: datetime
    detections: int
    detections_by_source: dict[str, int]


async def tag_counts(session: AsyncSession, municipality_code: str, since: datetime) -> TagCounts:
    """Aggregates for staff: how many tags and sightings, never which tag was where."""
    registered = (await session.execute(
        select(func.count()).select_from(WatchTag).where(WatchTag.municipality_code == municipality_code)
    )).scalar_one()
    active = (await session.execute(
        select(func.count()).select_from(WatchTag)
        .where(WatchTag.municipality_code == municipality_code, WatchTag.active.is_(True))
    )).scalar_one()
    by_source = Counter(dict((await session.execute(
        select(TagDetection.source, func.count())
        .join(WatchTag, TagDetection.tag_id == WatchTag.id)
        .where(WatchTag.municipality_code == municipality_code, TagDetection.detected_at >= since)
        .group_by(TagDetection.source)
    )).all()))
    return TagCounts(municipality_code, registered, active, since, sum(by_source.values()), dict(by_source))
