"""An audit log that survives truncation and re-chaining (issue 10, finding 2): keyed chaining with a key kept
outside the database, signed checkpoints in a sink outside it, and a verification that names each kind of
tampering apart. Each attack below passed `kyodo audit verify` before."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update

from kyodo.cli import main
from subgraphs.common import audit, audit_keys
from subgraphs.common.audit import AuditHead, AuditRecord
from subgraphs.common.audit_checkpoints import CheckpointStore
from subgraphs.common.audit_keys import AuditKeyError, AuditKeys, current_keys
from subgraphs.common.audit_verify import check_chain, verify_log
from subgraphs.common.db import Database, downgrade_async, upgrade_async

HIMEJI = "282014"


async def _write(database, count: int) -> None:  # noqa: ANN001
    for n in range(count):
        async with database.transaction() as session:
            await audit.record(session, "s-test", f"r-{n}", ["name"], "checkup follow-up", "permitted",
                               subject_municipality=HIMEJI, subgraph="childcare")


async def _checkpoint(database) -> None:  # noqa: ANN001
    async with database.sessions() as session:
        head = (await session.execute(select(AuditHead))).scalar_one()
    CheckpointStore(current_keys()).write("childcare", head.last_id, head.last_hash, head.keyed_from)


async def _verify(database):  # noqa: ANN001, ANN202
    async with database.sessions() as session:
        return await verify_log(session, current_keys(), "childcare")


def _kinds(verification) -> set[tuple[str, int | None]]:  # noqa: ANN001
    return {(f.kind, f.record_id) for f in verification.findings}


async def _rechain(database, *, key: bytes | None, drop: int) -> None:  # noqa: ANN001
    """What an attacker with database access does: remove one record, renumber the rest, recompute every
    hash after it (plain SHA-256 without the key, HMAC with it) and rewind the head to match."""
    async with database.transaction() as session:
        rows = list((await session.execute(select(AuditRecord).order_by(AuditRecord.id))).scalars())
        await session.execute(delete(AuditRecord))
        await session.flush()
        kept = [r for r in rows if r.id != drop]
        prev = audit.GENESIS_HASH
        for new_id, row in enumerate(kept, start=1):
            values = {c: getattr(row, c) for c in audit.KEYED_COLUMNS}
            values.update(id=new_id, prev_hash=prev, key_id=row.key_id if key else None)
            values["hash"] = prev = audit.compute_hash(values, key)
            session.add(AuditRecord(**values))
        await session.execute(update(AuditHead).values(last_id=len(kept), last_hash=prev))


async def test_records_are_keyed_with_a_key_the_database_does_not_hold(common_db):
    await _write(common_db, 2)
    keys = current_keys()
    async with common_db.sessions() as session:
        first = await session.get(AuditRecord, 1)
    assert first.key_id == keys.key_id
    values = {c: getattr(first, c) for c in audit.KEYED_COLUMNS}
    assert first.hash == audit.compute_hash(values, keys.chain_key) != audit.compute_hash(values)
    assert (await _verify(common_db)).intact


async def test_truncation_with_a_rewound_head_is_caught_by_the_checkpoint(common_db):
    await _write(common_db, 5)
    await _checkpoint(common_db)
    async with common_db.transaction() as session:
        three = await session.get(AuditRecord, 3)
        await session.execute(delete(AuditRecord).where(AuditRecord.id > 3))
        await session.execute(update(AuditHead).values(last_id=3, last_hash=three.hash))
    async with common_db.sessions() as session:
        assert (await check_chain(session, current_keys())).intact   # the chain alone cannot see it
    verification = await _verify(common_db)
    assert _kinds(verification) == {("truncated", 4)}
    assert "has 5 records; the log now ends at 3" in verification.findings[0].detail


async def test_deleting_the_tail_without_rewinding_the_head_is_truncation(common_db):
    await _write(common_db, 4)
    async with common_db.transaction() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.id == 4))
    assert _kinds(await _verify(common_db)) == {("truncated", 4)}


async def test_removing_a_record_and_rechaining_with_plain_sha256_is_named(common_db):
    await _write(common_db, 5)
    await _rechain(common_db, key=None, drop=3)
    verification = await _verify(common_db)
    assert {kind for kind, _ in _kinds(verification)} == {"rechained"}
    assert {record for _, record in _kinds(verification)} == {1, 2, 3, 4}


async def test_rechaining_even_with_the_chain_key_is_caught_by_a_signed_checkpoint(common_db):
    """An insider holding the chain key (not the checkpoint key) removes record 3, re-chains, and appends a
    record so the length matches the checkpoint again."""
    await _write(common_db, 5)
    await _checkpoint(common_db)
    await _rechain(common_db, key=current_keys().chain_key, drop=3)
    await _write(common_db, 1)
    async with common_db.sessions() as session:
        assert (await check_chain(session, current_keys())).intact
    assert _kinds(await _verify(common_db)) == {("rechained", 5)}


async def test_an_edit_is_named_as_an_edit(common_db):
    await _write(common_db, 4)
    await _checkpoint(common_db)
    async with common_db.transaction() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.id == 2).values(actor="someone-else"))
    assert _kinds(await _verify(common_db)) == {("edited", 2)}


async def test_a_record_chained_with_another_key_is_rechained(common_db):
    await _write(common_db, 2)
    stranger = os.urandom(32)
    async with common_db.transaction() as session:
        row = await session.get(AuditRecord, 2)
        values = {c: getattr(row, c) for c in audit.KEYED_COLUMNS}
        values["key_id"] = "0123456789abcdef"
        row.key_id, row.hash = values["key_id"], audit.compute_hash(values, stranger)
        await session.execute(update(AuditHead).values(last_hash=row.hash))
    assert _kinds(await _verify(common_db)) == {("rechained", 2)}


async def test_a_forged_checkpoint_is_reported_and_not_trusted(common_db):
    await _write(common_db, 3)
    await _checkpoint(common_db)
    forger = AuditKeys(current_keys().chain_key, Ed25519PrivateKey.generate(), current_keys().verifier,
                       current_keys().checkpoint_dir)
    CheckpointStore(forger).write("childcare", 1, "f" * 64, 1)   # signed with a key that is not ours
    verification = await _verify(common_db)
    assert [f.kind for f in verification.findings] == ["checkpoint"]
    assert verification.checkpoint.last_id == 3


async def test_checkpoint_files_are_written_once_and_read_only(common_db):
    await _write(common_db, 1)
    await _checkpoint(common_db)
    (path,) = (current_keys().checkpoint_dir / "childcare").glob("*.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    body = json.loads(path.read_text())
    assert set(body) == {"subgraph", "last_id", "last_hash", "keyed_from", "at", "signature"}


async def test_request_flushes_write_checkpoints_periodically(common_db, monkeypatch):
    from subgraphs.common.audit_checkpoints import CHECKPOINTER
    from subgraphs.common.request_audit import RequestAudit

    monkeypatch.setenv("KYODO_AUDIT_CHECKPOINT_SECONDS", "3600")
    monkeypatch.setattr(CHECKPOINTER, "_last_written", {})
    for _ in range(3):
        pending = RequestAudit()
        pending.note("s-test", "r-1", ["name"], "lookup", "permitted", subject_municipality=HIMEJI)
        await pending.flush(common_db)
    files = list((current_keys().checkpoint_dir / "common").glob("*.json"))
    assert len(files) == 1   # one per interval, not one per request
    checkpoint, forged = CheckpointStore(current_keys()).latest("common")
    assert forged == [] and checkpoint.last_id == 1


def test_dev_keys_are_made_0600_and_production_refuses_to_run_without_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in (audit_keys.CHAIN_KEY_ENV, audit_keys.CHECKPOINT_KEY_ENV, audit_keys.CHECKPOINT_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    keys = AuditKeys.from_env()
    for name in ("chain.key", "checkpoint.key"):
        assert stat.S_IMODE((tmp_path / "var" / "audit" / name).stat().st_mode) == 0o600
    assert AuditKeys.from_env().chain_key == keys.chain_key   # made once, then kept
    # a development sink lives beside its SQLite database: a fresh database elsewhere starts a fresh sink
    assert keys.sink_for(f"sqlite+aiosqlite:///{tmp_path / 'stack' / 'identity.sqlite'}") == \
        tmp_path / "stack" / "audit-checkpoints"
    assert keys.sink_for("postgresql+asyncpg://db/identity") == audit_keys.DEV_DIR / "checkpoints"
    with pytest.raises(AuditKeyError, match=audit_keys.CHAIN_KEY_ENV):
        AuditKeys.from_env({"KYODO_ENV": "production"})
    with pytest.raises(AuditKeyError, match="does not exist"):
        AuditKeys.from_env({audit_keys.CHAIN_KEY_ENV: str(tmp_path / "missing.key")})


def test_cli_verify_names_truncation_and_export_carries_the_verification(tmp_path, monkeypatch, capsys):
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path / 'childcare.sqlite'}"
    monkeypatch.setenv("KYODO_CHILDCARE_DATABASE_URL", url)
    assert main(["migrate", "childcare"]) == 0

    async def prepare() -> None:
        database = Database("childcare", url)
        await _write(database, 4)
        await database.dispose()

    asyncio.run(prepare())
    assert main(["audit", "checkpoint", "--subgraph", "childcare"]) == 0
    assert main(["audit", "verify", "--subgraph", "childcare"]) == 0
    assert "matches the signed checkpoint" in capsys.readouterr().out
    out = tmp_path / "export.jsonl"
    assert main(["audit", "export", "--subgraph", "childcare", "--from", "2000-01-01", "--to", "2999-12-31",
                 "--output", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["type"] == "verification" and lines[0]["intact"] is True and lines[0]["records"] == 4
    assert [line["id"] for line in lines[1:]] == [1, 2, 3, 4] and lines[1]["fields"] == ["name"]
    assert main(["audit", "export", "--subgraph", "childcare", "--to", "2000-01-01", "--output", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 1   # the verification line only

    async def truncate() -> None:
        database = Database("childcare", url)
        async with database.transaction() as session:
            two = await session.get(AuditRecord, 2)
            await session.execute(delete(AuditRecord).where(AuditRecord.id > 2))
            await session.execute(update(AuditHead).values(last_id=2, last_hash=two.hash))
        await database.dispose()

    asyncio.run(truncate())
    capsys.readouterr()
    assert main(["audit", "verify", "--subgraph", "childcare"]) == 1
    assert "childcare: audit record 3 truncated (missing at the end)" in capsys.readouterr().out
    assert main(["audit", "export", "--subgraph", "childcare", "--output", str(out)]) == 1
    assert json.loads(out.read_text().splitlines()[0])["findings"][0]["kind"] == "truncated"


@pytest.mark.parametrize("name, before", [("childcare", "childcare_0003"), ("currency", "currency_0003"),
                                          ("safety", "safety_0003"), ("identity", "identity_0005")])
async def test_the_keying_migration_upgrades_and_downgrades_keeping_old_records_verifiable(database_url, name, before):
    """A log written before keyed chaining (plain SHA-256) still verifies after the upgrade; records from then
    on are keyed; the downgrade removes the columns and the upgrade adds them again."""
    await upgrade_async(name, database_url, before)
    database = Database(name, database_url)
    try:
        async with database.transaction() as session:   # what the code before this change wrote
            prev = audit.GENESIS_HASH
            for record_id in (1, 2):
                values = {"id": record_id, "at": "2026-11-30T00:00:00.000000Z", "subgraph": name, "actor": "s-old",
                          "actor_municipality": None, "subject": "r-1", "subject_municipality": HIMEJI,
                          "fields": '["name"]', "purpose": "legacy", "result": "permitted", "prev_hash": prev}
                values["hash"] = prev = hashlib.sha256(audit.canonical_bytes(values)).hexdigest()
                await session.execute(AuditRecord.__table__.insert().values(**values))
            await session.execute(AuditHead.__table__.update().values(last_id=2, last_hash=prev))
    finally:
        await database.dispose()
    await upgrade_async(name, database_url)
    database = Database(name, database_url)
    try:
        async with database.transaction() as session:
            await audit.record(session, "s-new", "r-1", ["name"], "after upgrade", "permitted")
        async with database.sessions() as session:
            verification = await verify_log(session, current_keys(), name)
            keyed = await session.get(AuditRecord, 3)
        assert verification.intact and verification.keyed_from == 3 and verification.head_id == 3
        assert keyed.key_id == current_keys().key_id
    finally:
        await database.dispose()
    await downgrade_async(name, database_url, before)
    await upgrade_async(name, database_url)


def test_a_production_subgraph_refuses_to_start_without_its_audit_keys(monkeypatch, tmp_path):
    from subgraphs.identity.app import create_app

    monkeypatch.setenv("KYODO_ENV", "production")
    # every other production secret is present (identity hashes card serials: its import checks the pepper),
    # so the missing audit key is what stops it, whichever test imported identity first
    monkeypatch.setenv("KYODO_CARD_PEPPER", "p" * 40)
    monkeypatch.delenv(audit_keys.CHAIN_KEY_ENV)
    audit_keys.reset_current_keys()
    with pytest.raises(AuditKeyError, match=audit_keys.CHAIN_KEY_ENV):
        create_app(database_url=f"sqlite+aiosqlite:///{tmp_path / 'identity.sqlite'}")
