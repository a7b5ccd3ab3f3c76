"""Verify one subgraph's audit log: the keyed chain record by record, then the head against the latest signed
checkpoint outside the database. Each kind of tampering is named apart:

    edited      a record's content no longer matches its hash (changed in place)
    deleted     a record id is missing inside the chain
    truncated   records are missing at the end: the head row, or the latest checkpoint, says the log was longer
    rechained   hashes were recomputed — without the chain key (plain SHA-256 where a keyed hash is due, or an
                unknown key), or with it but no longer matching a signed checkpoint (the log was rewritten)
    checkpoint  a checkpoint file in the sink whose signature does not verify (forged or damaged)

A log with no checkpoint yet verifies its chain only; the result says so (`anchored` is False).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import audit
from subgraphs.common.audit import GENESIS_HASH, AuditHead, AuditRecord
from subgraphs.common.audit_checkpoints import Checkpoint, CheckpointStore
from subgraphs.common.audit_keys import AuditKeys


@dataclass(frozen=True)
class Finding:
    kind: str                   # edited, deleted, truncated, rechained, checkpoint
    record_id: int | None
    detail: str


@dataclass
class Verification:
    subgraph: str
    records: int = 0
    head_id: int = 0
    head_hash: str = GENESIS_HASH
    keyed_from: int | None = None
    checkpoint: Checkpoint | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def anchored(self) -> bool:
        return self.checkpoint is not None

    def as_dict(self) -> dict:
        return {
            "subgraph": self.subgraph, "intact": self.intact, "records": self.records, "head_id": self.head_id,
            "head_hash": self.head_hash, "keyed_from": self.keyed_from,
            "checkpoint": None if self.checkpoint is None else {
                "last_id": self.checkpoint.last_id, "last_hash": self.checkpoint.last_hash,
                "keyed_from": self.checkpoint.keyed_from, "at": self.checkpoint.at},
            "findings": [{"kind": f.kind, "record_id": f.record_id, "detail": f.detail} for f in self.findings],
        }


def _content_problem(entry: AuditRecord, keys: AuditKeys, keyed_from: int | None) -> str | None:
    """None when the record's hash matches its content under the rule for its position; else the kind."""
    values = {name: getattr(entry, name) for name in audit.STORED_COLUMNS}
    plain = audit.compute_hash(values)
    keyed_era = keyed_from is not None and entry.id >= keyed_from
    if entry.key_id is None:
        if plain != entry.hash:
            return "edited"
        return "rechained" if keyed_era else None    # a plain hash where a keyed one is due: made without the key
    if entry.key_id != keys.key_id:
        return "rechained"                           # chained with a key this deployment does not hold
    if audit.compute_hash(values, keys.chain_key) == entry.hash:
        return None
    unkeyed = hashlib.sha256(audit.canonical_bytes(values, audit.KEYED_COLUMNS)).hexdigest()
    return "rechained" if entry.hash in (plain, unkeyed) else "edited"


async def check_chain(session: AsyncSession, keys: AuditKeys, subgraph: str = "") -> Verification:
    """The chain alone: every record's hash, the links, the id sequence and the head row."""
    result = Verification(subgraph)
    head = (await session.execute(select(AuditHead).where(AuditHead.id == 1))).scalar_one_or_none()
    keyed_from = head.keyed_from if head is not None else None
    result.keyed_from = keyed_from
    findings = result.findings
    expected_id, expected_prev = 1, GENESIS_HASH
    flagged: set[int] = set()
    stream = await session.stream_scalars(select(AuditRecord).order_by(AuditRecord.id).execution_options(yield_per=500))
    async for entry in stream:
        result.records += 1
        while expected_id < entry.id:   # ids are consecutive: a gap is a deleted record
            findings.append(Finding("deleted", expected_id, "record missing from the chain"))
            flagged.add(expected_id)
            expected_id += 1
        problem = _content_problem(entry, keys, keyed_from)
        if problem is not None:
            findings.append(Finding(problem, entry.id, "hash does not match the content" if problem == "edited"
                                    else "hash recomputed without the chain key"))
            flagged.add(entry.id)
        elif entry.prev_hash != expected_prev and (entry.id - 1) not in flagged:
            # This record is intact but its predecessor changed after it was written (its hash recomputed).
            findings.append(Finding("edited", entry.id - 1, "the next record no longer links to it"))
            flagged.add(entry.id - 1)
        expected_id, expected_prev = entry.id + 1, entry.hash
    result.head_id, result.head_hash = expected_id - 1, expected_prev
    if head is not None:
        while expected_id <= head.last_id:   # the head row points past the last record: the end was cut off
            findings.append(Finding("truncated", expected_id, "record missing from the end of the chain"))
            expected_id += 1
        if head.last_id == result.head_id and head.last_id > 0 and head.last_hash != expected_prev \
                and head.last_id not in flagged:
            findings.append(Finding("edited", head.last_id, "the head row no longer matches the last record"))
    return result


async def verify_log(session: AsyncSession, keys: AuditKeys, subgraph: str,
                     database_url: str | None = None) -> Verification:
    """The chain, then the latest valid checkpoint of `subgraph` from the sink."""
    result = await check_chain(session, keys, subgraph)
    store = CheckpointStore(keys, database_url)
    checkpoint, forged = store.latest(subgraph)
    for path in forged:
        result.findings.append(Finding("checkpoint", None, f"checkpoint {path.name} does not verify"))
    result.checkpoint = checkpoint
    if checkpoint is None:
        return result
    if checkpoint.keyed_from != result.keyed_from:
        result.findings.append(Finding("rechained", checkpoint.keyed_from,
                                       f"keyed chaining began at record {checkpoint.keyed_from} by the signed "
                                       f"checkpoint, at {result.keyed_from} by the database"))
    if result.head_id < checkpoint.last_id:
        result.findings.append(Finding("truncated", result.head_id + 1,
                                       f"the signed checkpoint of {checkpoint.at} has {checkpoint.last_id} records; "
                                       f"the log now ends at {result.head_id}"))
        return result
    anchor = await session.get(AuditRecord, checkpoint.last_id)
    if anchor is None or anchor.hash != checkpoint.last_hash:
        result.findings.append(Finding("rechained", checkpoint.last_id,
                                       f"record {checkpoint.last_id} differs from the signed checkpoint of "
                                       f"{checkpoint.at}: the log was rewritten up to there"))
    return result
