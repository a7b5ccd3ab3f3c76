"""Children by id for one request, in batches: every `_entities` reference to a Child and every aliased
`child(id:)` of the request is loaded, authorized and audited together — one transaction, one query for the
children and one for their guardians, whatever the number of references.

A key is (child id, purpose, requested fields); the answer for each key is (row, guardian ids), or the error
that key's caller raises (a refusal, or the NOT_FOUND/FORBIDDEN an unknown id gets).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from subgraphs.common.context import SubjectRef, decide_personal
from subgraphs.common.errors import KyodoError
from subgraphs.common.request_loaders import request_loader

from .access import PLATFORM, guardians_of_children, missing_child_error
from .models import Child

Key = tuple[str, str, tuple[str, ...]]


async def _batch(ctx: Any, keys: list[Key]) -> list[Any]:
    from sqlalchemy import select

    results: list[Any] = [None] * len(keys)
    ids = list(dict.fromkeys(key[0] for key in keys))
    async with ctx.transaction() as session:
        rows = {row.id: row for row in (await session.execute(select(Child).where(Child.id.in_(ids)))).scalars()}
        guardians = await guardians_of_children(session, list(rows))
        groups: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
        for index, (child_id, purpose, fields) in enumerate(keys):
            if child_id in rows:
                groups[(purpose, fields)].append(index)
            else:
                results[index] = missing_child_error(ctx)
        for (purpose, fields), indexes in groups.items():
            subjects = [SubjectRef(rows[keys[i][0]].id, rows[keys[i][0]].municipality_code, guardians[keys[i][0]])
                        for i in indexes]
            decisions = await decide_personal(ctx, session, subjects, PLATFORM, fields=fields, purpose=purpose)
            for index, decision in zip(indexes, decisions):
                child_id = keys[index][0]
                results[index] = decision if isinstance(decision, KyodoError) else (rows[child_id], guardians[child_id])
    return results


async def load_child_for_read(ctx: Any, child_id: str, purpose: str, fields: list[str]) -> tuple[Child, tuple[str, ...]]:
    """(row, guardian ids) of a child the caller may read (audited); raises the refusal otherwise."""
    return await request_loader(ctx, "childcare.children", _batch).load((child_id, purpose, tuple(fields)))
