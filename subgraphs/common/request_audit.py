"""The audit records of one request, written together in one transaction when the request has executed.

Reads (permitted or refused) are noted here instead of each opening a transaction of its own: a request that
refuses 60 co-guardians takes the chain head once, not 60 times, and never holds a second pooled connection
while its first is open. Writes keep recording in their own transaction (`audit.record`), so a change and its
record commit or roll back together.

Fail closed: `SubgraphGraphQL` flushes before the answer leaves; if the records cannot be written, the answer
is replaced by AUDIT_UNAVAILABLE and no personal data is returned unaudited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from subgraphs.common import audit
from subgraphs.common.audit import AuditEvent
from subgraphs.common.audit_checkpoints import CHECKPOINTER
from subgraphs.common.audit_keys import current_keys
from subgraphs.common.errors import AuditUnavailable

log = logging.getLogger("kyodo.subgraphs.audit")


class RequestAudit:
    """Pending audit events of one request, in the order they happened."""

    def __init__(self) -> None:
        self.pending: list[AuditEvent] = []

    def note(self, actor: Any, subject: str, fields: Iterable[str], purpose: str, result: str, *,
             subject_municipality: str | None = None, subgraph: str = "") -> None:
        self.pending.append(AuditEvent.of(actor, subject, fields, purpose, result,
                                          subject_municipality=subject_municipality, subgraph=subgraph))

    async def flush(self, database: Any) -> int:
        """Write every pending event in one transaction; raise AuditUnavailable if that fails."""
        events, self.pending = self.pending, []
        if not events:
            return 0
        try:
            async with database.transaction() as session:
                entries, keyed_from = await audit.record_many_at_head(session, events)
        except Exception as error:  # noqa: BLE001 - any failure means the reads went unrecorded
            log.error("could not write %d audit records: %s: %s", len(events), type(error).__name__, error)
            raise AuditUnavailable("the access could not be recorded in the audit log, so nothing is returned; "
                                   "try again shortly") from None
        # now and then, anchor the head outside the database (signed checkpoint; see audit_checkpoints)
        CHECKPOINTER.maybe_write(current_keys(), getattr(database, "name", ""), entries[-1].id, entries[-1].hash,
                                 keyed_from, getattr(database, "url", None))
        return len(events)
