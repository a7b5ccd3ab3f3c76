"""GraphQL side of watch-over tags: `Resident.watchTags` (guardian only) and staff aggregates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

import strawberry
from strawberry.federation.schema_directives import Tag  # contracts (gateway/contracts)
from strawberry.types import Info

from subgraphs.common.errors import BadUserInput
from subgraphs.common.list_sizes import SIZED_BY_LIMIT

from . import watch_tag_trust, watch_tags
from .access import require_staff
from .models import TagDetection as TagDetectionRow
from .models import TagDetector as TagDetectorRow
from .models import WatchTag as WatchTagRow
from .timestamps import as_utc, utc_now

DetectorKind = strawberry.enum(watch_tags.DetectorKind, description="who saw the tag")
ReportChannel = strawberry.enum(watch_tag_trust.ReportChannel, description="how the sighting's sender was verified")
MAX_HISTORY = 500


@strawberry.type(description="one sighting of a tag; a citizen phone's sighting carries no reporter", directives=[Tag(name="personal")])
class TagDetection:
    detected_at: datetime
    latitude: float
    longitude: float
    place_name: Optional[str]
    source: DetectorKind  # type: ignore[valid-type]
    detector_name: Optional[str] = strawberry.field(description="the fixed detector's name; null for phones")
    reported_via: ReportChannel = strawberry.field(  # type: ignore[valid-type]
        description="FIXED_DETECTOR (its own credentials), REGISTERED_APP (a registered citizen app), or "
                    "UNVERIFIED (sent before sightings had to be authenticated)")

    @classmethod
    def from_rows(cls, row: TagDetectionRow, detector: TagDetectorRow | None) -> TagDetection:
        return cls(detected_at=as_utc(row.detected_at), latitude=row.latitude, longitude=row.longitude,
                   place_name=row.place_name or (detector.name if detector else None),
                   source=watch_tags.DetectorKind(row.source), detector_name=detector.name if detector else None,
                   reported_via=watch_tag_trust.ReportChannel(row.reported_via or "UNVERIFIED"))


@strawberry.type(description="a BLE watch-over tag; it holds nothing about the child who carries it", directives=[Tag(name="personal")])
class WatchTag:
    id: strawberry.ID
    registered_at: datetime
    active: bool
    # Loaded with the tag list, inside the audited read (see Resident.watch_tags).
    recent: strawberry.Private[list[TagDetection]]

    @strawberry.field(description="passage history, newest first", directives=[SIZED_BY_LIMIT])
    def detections(self, limit: int = 50) -> list[TagDetection]:
        if not 0 < limit <= MAX_HISTORY:
            raise BadUserInput(f"limit must be 1..{MAX_HISTORY}", field="limit")
        return self.recent[:limit]

    @strawberry.field
    def last_seen(self) -> Optional[TagDetection]:
        return self.recent[0] if self.recent else None


@strawberry.federation.type(keys=["id"])  # no description: identity owns the type
class Resident:
    id: strawberry.ID

    @strawberry.field(description="the tags this resident is guardian of, with their history; the guardian only")
    async def watch_tags(self, info: Info) -> Optional[list[WatchTag]]:
        ctx = info.context
        async with ctx.transaction() as session:
            rows: list[WatchTagRow] = await watch_tags.guardian_tags(session, ctx.principal, str(self.id),
                                                                     ctx.database)
            result = []
            for row in rows:
                history = await watch_tags.detections_of(session, row.id, MAX_HISTORY)
                result.append(WatchTag(id=strawberry.ID(row.id), registered_at=as_utc(row.registered_at),
                                       active=row.active,
                                       recent=[TagDetection.from_rows(d, det) for d, det in history]))
            return result

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Resident:
        return cls(id=id)


@strawberry.type
class SourceCount:
    source: DetectorKind  # type: ignore[valid-type]
    count: int


@strawberry.type(description="aggregate counts for staff: no tag, guardian or place")
class WatchTagStats:
    municipality_code: str
    registered_tags: int
    active_tags: int
    since: datetime
    detections: int
    by_source: list[SourceCount]


async def watch_tag_stats(info: Info, municipality_code: str, hours: int) -> WatchTagStats:
    ctx = info.context
    async with ctx.transaction() as session:
        await require_staff(session, ctx.principal, municipality_code, write=False)
        counts = await watch_tags.tag_counts(session, municipality_code, utc_now() - timedelta(hours=hours))
    return WatchTagStats(
        municipality_code=counts.municipality_code, registered_tags=counts.registered_tags,
        active_tags=counts.active_tags, since=counts.detections_since, detections=counts.detections,
        by_source=[SourceCount(source=watch_tags.DetectorKind(s), count=n)
                   for s, n in sorted(counts.detections_by_source.items())],
    )
