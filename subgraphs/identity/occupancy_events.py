"""What `shelterOccupancyChanged(shelterId)` (`occupancy_subscription`) waits for: identity's Shelter entity (its `occupancy`) after every committed
check-in and check-out there: residents' (`shelters`), visitors' (`visitors`), moves from another shelter
(that shelter's count changed too) and the closing of a shelter's check-in.

Occupancy is counts only and answers anyone on the Query side, so anonymous callers may subscribe. The event
carries the shelter id; each delivery reads the counts afresh (the broker clears the public cache when an event
arrives, `subgraphs.common.events`), and through the gateway safety resolves the Shelter's other fields.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.events import publish_on_commit


def occupancy_topic(shelter_id: str) -> str:
    return f"shelterOccupancyChanged:{shelter_id}"


def publish_occupancy_changed(session: AsyncSession, shelter_ids: Iterable[str]) -> None:
    """Queue one event per shelter whose counts this transaction changes; sent once it commits."""
    for shelter_id in dict.fromkeys(shelter_ids):
        publish_on_commit(session, occupancy_topic(shelter_id), {"shelterId": shelter_id})
