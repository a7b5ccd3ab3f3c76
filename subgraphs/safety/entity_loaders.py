"""Batch entity lookups: the gateway asks `_entities` for many shelters (or AEDs…) at once, and one
request-scoped DataLoader per table turns them into one `WHERE id IN (…)` query.

An entity safety does not hold (e.g. a shelter id identity recorded at a check-in, but never imported here)
is a NOT_FOUND error on that entity, naming the id, rather than a bare null: through the gateway the client
then reads "safety holds no shelter '…'" at the path, not only "Cannot return null for non-nullable field".
Root fields such as `shelter(id:)` still answer null for an unknown well-formed id.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from subgraphs.common.errors import NotFound


async def _load_many(context: Any, model: type, ids: list[str]) -> list[Any]:
    async with context.transaction() as session:
        rows = (await session.execute(select(model).where(model.id.in_(ids)))).scalars()
        by_id = {row.id: row for row in rows}
    return [by_id.get(key) for key in ids]


def row_loader(info: Info, model: type) -> DataLoader[str, Any]:
    extras = info.context.extras
    key = f"safety.rows.{model.__tablename__}"
    if key not in extras:
        extras[key] = DataLoader(load_fn=partial(_load_many, info.context, model))
    return extras[key]


async def load_row(info: Info, model: type, key: Any) -> Any:
    return await row_loader(info, model).load(str(key))


async def load_entity_row(info: Info, model: type, key: Any, what: str) -> Any:
    """The row of a federated entity reference; NOT_FOUND naming the id when safety does not hold it."""
    row = await load_row(info, model, key)
    if row is None:
        raise NotFound(f"safety holds no {what} {str(key)!r}", id=str(key))
    return row
