"""Request-scoped DataLoaders: the references one request asks for (an `_entities` batch, sixty aliases of
one root field) are collected while the request resolves and loaded with one query, in one transaction.

A loader's batch function runs in a task of its own, after the resolvers that asked have yielded; it must
not be awaited while its caller holds a transaction it needs (it takes a connection of the request's share).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader


def request_loader(context: Any, name: str, batch: Callable[[Any, list[Any]], Awaitable[Sequence[Any]]]) -> DataLoader:
    """The request's loader called `name` (made on first use): `await loader.load(key)`.

    `batch(context, keys)` returns one value per key, in order; an exception in a key's place is raised to
    that key's caller only."""
    extras = context.extras
    loader = extras.get(("loader", name))
    if loader is None:
        async def load(keys: list[Any]) -> Sequence[Any]:
            return await batch(context, keys)

        loader = extras[("loader", name)] = DataLoader(load_fn=load)
    return loader


async def rows_by_id(context: Any, model: type, ids: Sequence[Any]) -> list[Any]:
    """`model` rows for `ids` (None where absent), in the order asked, with one `WHERE id IN (…)`."""
    async with context.transaction() as session:
        rows = (await session.execute(select(model).where(model.id.in_(set(ids))))).scalars()
        by_id = {row.id: row for row in rows}
    return [by_id.get(key) for key in ids]


async def load_row(context: Any, model: type, key: Any) -> Any:
    """One `model` row by id (or None), batched with every other such lookup of the request."""
    async def batch(ctx: Any, keys: list[Any]) -> list[Any]:
        return await rows_by_id(ctx, model, keys)

    return await request_loader(context, f"rows.{model.__tablename__}", batch).load(str(key))
