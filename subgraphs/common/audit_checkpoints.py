"""Signed checkpoints of each audit chain, written to an append-only sink outside the database.

A checkpoint says "subgraph S's audit log had N records and record N's hash was H" (plus where keyed
chaining began), signed with the checkpoint key (`audit_keys`). One file per checkpoint under
`<sink>/<subgraph>/`, created exclusively and made read-only; nothing here ever rewrites or deletes one. A
city keeps the sink on other media than the database (see docs/operations.md, "Audit anchoring"): whoever
can rewrite the database then still cannot make a shortened or re-chained log match the latest checkpoint.

`Checkpointer.maybe_write` is called after each request's audit flush and writes at most one checkpoint per
`KYODO_AUDIT_CHECKPOINT_SECONDS` (default 60) per process; `kyodo audit checkpoint` writes one at once.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature

from subgraphs.common.audit_keys import AuditKeys

log = logging.getLogger("kyodo.subgraphs.audit")
INTERVAL_ENV = "KYODO_AUDIT_CHECKPOINT_SECONDS"
SIGNED_FIELDS = ("subgraph", "last_id", "last_hash", "keyed_from", "at")


@dataclass(frozen=True)
class Checkpoint:
    subgraph: str
    last_id: int
    last_hash: str
    keyed_from: int
    at: str
    path: Path | None = None

    def signed_bytes(self) -> bytes:
        content = {name: getattr(self, name) for name in SIGNED_FIELDS}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


class CheckpointStore:
    def __init__(self, keys: AuditKeys, database_url: str | None = None) -> None:
        self.keys = keys
        self.directory = keys.sink_for(database_url)

    def write(self, subgraph: str, last_id: int, last_hash: str, keyed_from: int) -> Checkpoint:
        if self.keys.signer is None:
            raise RuntimeError("this host holds no checkpoint signing key")
        at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        checkpoint = Checkpoint(subgraph, last_id, last_hash, keyed_from, at)
        signature = base64.b64encode(self.keys.signer.sign(checkpoint.signed_bytes())).decode()
        body = json.dumps({**{n: getattr(checkpoint, n) for n in SIGNED_FIELDS}, "signature": signature},
                          sort_keys=True).encode() + b"\n"
        folder = self.directory / subgraph
        folder.mkdir(parents=True, exist_ok=True)
        stamp = at.replace(":", "").replace("-", "").replace(".", "")
        path = folder / f"{last_id:012d}-{stamp}-{os.getpid()}.json"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # never replaces one
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, 0o400)
        return Checkpoint(subgraph, last_id, last_hash, keyed_from, at, path)

    def read_all(self, subgraph: str) -> tuple[list[Checkpoint], list[Path]]:
        """(checkpoints whose signature verifies, oldest first by record id; files that do not verify)."""
        valid: list[Checkpoint] = []
        forged: list[Path] = []
        folder = self.directory / subgraph
        if not folder.is_dir():
            return valid, forged
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text())
                checkpoint = Checkpoint(str(data["subgraph"]), int(data["last_id"]), str(data["last_hash"]),
                                        int(data["keyed_from"]), str(data["at"]), path)
                self.keys.verifier.verify(base64.b64decode(data["signature"]), checkpoint.signed_bytes())
            except (OSError, ValueError, KeyError, TypeError, InvalidSignature):
                forged.append(path)
                continue
            if checkpoint.subgraph != subgraph:
                forged.append(path)
                continue
            valid.append(checkpoint)
        valid.sort(key=lambda c: (c.last_id, c.at))
        return valid, forged

    def latest(self, subgraph: str) -> tuple[Checkpoint | None, list[Path]]:
        valid, forged = self.read_all(subgraph)
        return (valid[-1] if valid else None), forged


def _interval() -> float:
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    try:
        return float(raw) if raw else 60.0
    except ValueError:
        return 60.0


class Checkpointer:
    """Writes a checkpoint of the head a flush just produced, at most once per interval per process."""

    def __init__(self) -> None:
        self._last_written: dict[str, float] = {}

    def due(self, subgraph: str) -> bool:
        return time.monotonic() - self._last_written.get(subgraph, float("-inf")) >= _interval()

    def maybe_write(self, keys: AuditKeys, subgraph: str, last_id: int, last_hash: str, keyed_from: int,
                    database_url: str | None = None) -> None:
        if not subgraph or keys.signer is None or not self.due(subgraph):
            return
        self._last_written[subgraph] = time.monotonic()
        store = CheckpointStore(keys, database_url)
        try:
            store.write(subgraph, last_id, last_hash, keyed_from)
        except OSError as error:   # the sink is down: the log itself is intact; say so loudly, keep serving
            log.error("could not write the %s audit checkpoint to %s: %s", subgraph, store.directory, error)


CHECKPOINTER = Checkpointer()
