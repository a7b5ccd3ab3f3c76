"""Idempotency keys: every grant and payment carries one, scoped to the account.

The same key with the same request gives back the stored result (marked `replayed`); the same key with a
different request is refused with IDEMPOTENCY_KEY_REUSED. Only successful mutations are stored, in the same
transaction as their ledger entry, and looked up under the account lock (subgraphs/currency/service.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.errors import Conflict
from subgraphs.currency.models import IdempotencyRecord

IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"


@dataclass(frozen=True)
class Draw:
    lot_id: int
    amount: int
    expires_on: date


@dataclass(frozen=True)
class MutationResult:
    """What a grant or spend returns, and what a retry with the same key gets back."""

    entry_id: int
    kind: str
    resident_id: str
    amount: int
    balance: int
    booked_on: date
    activity_code: str | None = None
    capped_by: str | None = None
    expires_on: date | None = None
    merchant_id: str | None = None
    draws: tuple[Draw, ...] = ()
    replayed: bool = field(default=False, compare=False)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("replayed")
        return json.dumps(data, default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MutationResult:
        data = json.loads(text)
        data["booked_on"] = date.fromisoformat(data["booked_on"])
        if data.get("expires_on"):
            data["expires_on"] = date.fromisoformat(data["expires_on"])
        data["draws"] = tuple(Draw(d["lot_id"], d["amount"], date.fromisoformat(d["expires_on"]))
                              for d in data.get("draws", ()))
        return cls(**data, replayed=True)


def request_hash(operation: str, **fields: Any) -> str:
    canonical = json.dumps({"operation": operation, **fields}, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def stored_result(session: AsyncSession, account_id: int, key: str, operation: str,
                         fingerprint: str) -> MutationResult | None:
    found = await session.execute(select(IdempotencyRecord).where(IdempotencyRecord.account_id == account_id,
                                                                  IdempotencyRecord.key == key))
    stored = found.scalar_one_or_none()
    if stored is None:
        return None
    if stored.operation != operation or stored.request_hash != fingerprint:
        raise Conflict("this idempotency key was already used for a different request", code=IDEMPOTENCY_KEY_REUSED)
    return MutationResult.from_json(stored.response)


async def remember(session: AsyncSession, account_id: int, actor: str, key: str, operation: str,
                    fingerprint: str, result: MutationResult) -> None:
    session.add(IdempotencyRecord(account_id=account_id, key=key, actor=actor, operation=operation,
                                  request_hash=fingerprint, response=result.to_json(), entry_id=result.entry_id))
    await session.flush()
