"""Residents by id for one request, in batches: every `_entities` reference to a Resident (a child's
guardians, sixty aliases of them) and every root read of the request is loaded, authorized and audited
together — one transaction, one query for the residents and one for their guardians.

A key is (resident id, purpose, requested fields); the answer is the row, or the error that key's caller
raises (a refusal, or NOT_FOUND for an id identity does not hold).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from subgraphs.common.context import SubjectRef, decide_personal
from subgraphs.common.errors import KyodoError, NotFound
from subgraphs.common.request_loaders import request_loader

from .access import PLATFORM
from .models import Guardianship, Resident

Key = tuple[str, str, tuple[str, ...]]


async def _batch(ctx: Any, keys: list[Key]) -> list[Any]:
    results: list[Any] = [None] * len(keys)
    ids = list(dict.fromkeys(key[0] for key in keys))
    async with ctx.transaction() as session:
        rows = {r.id: r for r in (await session.execute(select(Resident).where(Resident.id.in_(ids)))).scalars()}
        guardians: dict[str, list[str]] = defaultdict(list)
        links = await session.execute(select(Guardianship.child_id, Guardianship.guardian_id)
                                      .where(Guardianship.child_id.in_(list(rows))))
        for child_id, guardian_id in links:
            guardians[child_id].append(guardian_id)
        groups: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(list)
        for index, (resident_id, purpose, fields) in enumerate(keys):
            if resident_id in rows:
                groups[(purpose, fields)].append(index)
            else:
                results[index] = NotFound("no such resident")
        for (purpose, fields), indexes in groups.items():
            subjects = [SubjectRef(keys[i][0], rows[keys[i][0]].municipality_code, tuple(guardians[keys[i][0]]))
                        for i in indexes]
            decisions = await decide_personal(ctx, session, subjects, PLATFORM, fields=fields, purpose=purpose)
            for index, decision in zip(indexes, decisions):
                results[index] = decision if isinstance(decision, KyodoError) else rows[keys[index][0]]
    return results


async def load_resident_for_read(ctx: Any, resident_id: str, purpose: str, fields: list[str]) -> Resident:
    """The row of a resident the caller may read (audited); raises the refusal or NOT_FOUND otherwise."""
    return await request_loader(ctx, "identity.residents", _batch).load((resident_id, purpose, tuple(fields)))
