"""Count what a request does to the database, through SQLAlchemy's event hooks (every engine in the process):
statements, transactions begun, audit-chain head takes, and the most pooled connections held at once.
Counting the mechanism instead of timing it keeps these tests exact."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool


@dataclass
class SqlCount:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    checked_out: int = 0
    most_checked_out: int = 0

    @property
    def audit_head_takes(self) -> int:
        return sum(1 for s in self.statements if s.lstrip().upper().startswith("UPDATE AUDIT_HEAD SET LAST_ID"))

    def selects_from(self, table: str) -> int:
        return sum(1 for s in self.statements if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s)


@contextmanager
def counting_sql():
    count = SqlCount()

    def on_statement(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001
        count.statements.append(statement)

    def on_begin(_conn):  # noqa: ANN001
        count.transactions += 1

    def on_checkout(*_):  # noqa: ANN002
        count.checked_out += 1
        count.most_checked_out = max(count.most_checked_out, count.checked_out)

    def on_checkin(*_):  # noqa: ANN002
        count.checked_out -= 1

    hooks = [(Engine, "before_cursor_execute", on_statement), (Engine, "begin", on_begin),
             (Pool, "checkout", on_checkout), (Pool, "checkin", on_checkin)]
    for target, name, fn in hooks:
        event.listen(target, name, fn)
    try:
        yield count
    finally:
        for target, name, fn in hooks:
            event.remove(target, name, fn)
