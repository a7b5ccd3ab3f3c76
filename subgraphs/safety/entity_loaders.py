"""Batch entity lookups: the gateway asks `_entities` for many shelters (or AEDs…) at once, and one
request-scoped DataLoader per table turns them into one `WHERE id IN (…)` query."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader
from strawberry.types import Info


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
