"""Batch entity lookups: the gateway asks `_entities` for many shelters (or AEDs…) at once, and one
request-scoped DataLoader per table (subgraphs/common/request_loaders.py) turns them into one
`WHERE id IN (…)` query.

An entity safety does not hold (e.g. a shelter id identity recorded at a check-in, but never imported here)
is a NOT_FOUND error on that entity, naming the id, rather than a bare null: through the gateway the client
then reads "safety holds no shelter '…'" at the path, not only "Cannot return null for non-nullable field".
Root fields such as `shelter(id:)` still answer null for an unknown well-formed id.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from subgraphs.common import request_loaders
from subgraphs.common.errors import NotFound


async def load_row(info: Info, model: type, key: Any) -> Any:
    return await request_loaders.load_row(info.context, model, key)


async def load_entity_row(info: Info, model: type, key: Any, what: str) -> Any:
    """The row of a federated entity reference; NOT_FOUND naming the id when safety does not hold it."""
    row = await load_row(info, model, key)
    if row is None:
        raise NotFound(f"safety holds no {what} {str(key)!r}", id=str(key))
    return row
