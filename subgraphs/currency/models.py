"""Tables of the currency subgraph (sqlmodel); names start with `currency_` (one shared SQLModel metadata).

The ledger is append-only. For every account, at every commit:
    balance == Σ GRANT − Σ SPEND − Σ EXPIRE == Σ lot.remaining
Each grant opens a lot (points with one expiry date); a spend draws on lots (SpendDraw rows); an expiry
empties one lot with an explicit EXPIRE entry. CHECK constraints refuse a negative balance or lot at the
database level too, as a last line behind the service's own checks.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

GRANT, SPEND, EXPIRE = "GRANT", "SPEND", "EXPIRE"


class PointAccount(SQLModel, table=True):
    __tablename__ = "currency_account"
    __table_args__ = (sa.CheckConstraint("balance >= 0", name="currency_account_balance_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: str = Field(max_length=64, unique=True)        # identity's pseudonymous resident id
    municipality_code: str = Field(max_length=6, index=True)    # the resident's municipality
    balance: int = 0
    version: int = 0                                             # bumped by every mutation: the row lock
    opened_on: date


class AccountGuardian(SQLModel, table=True):
    """A guardian of the account holder (a child's account): may read it, never spend from it."""

    __tablename__ = "currency_account_guardian"

    account_id: int = Field(primary_key=True, foreign_key="currency_account.id")
    guardian_id: str = Field(primary_key=True, max_length=64, index=True)


class PointLot(SQLModel, table=True):
    __tablename__ = "currency_lot"
    __table_args__ = (
        sa.CheckConstraint("remaining >= 0 AND remaining <= original", name="currency_lot_remaining_in_range"),
        sa.Index("currency_lot_account_expiry", "account_id", "expires_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="currency_account.id")
    kind: str = Field(default="administrative", max_length=16)   # administrative (granted) vs charged: kept apart
    granted_on: date
    expires_on: date                                             # last day the points may be spent
    original: int
    remaining: int


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "currency_ledger"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="currency_ledger_amount_positive"),
        sa.Index("currency_ledger_caps", "account_id", "activity_code", "occurred_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="currency_account.id", index=True)
    kind: str = Field(max_length=8)                  # GRANT, SPEND, EXPIRE
    amount: int                                      # always positive; the kind gives the sign
    booked_on: date                                  # local date the entry was made
    balance_after: int
    activity_code: str | None = Field(default=None, max_length=32)   # GRANT
    occurred_on: date | None = None                  # GRANT: the day of the activity (caps count by it)
    reference: str | None = Field(default=None, max_length=128)      # GRANT: e.g. the application id
    merchant_id: str | None = Field(default=None, max_length=80)     # SPEND
    lot_id: int | None = Field(default=None, foreign_key="currency_lot.id")   # GRANT, EXPIRE
    actor: str = Field(max_length=128)               # principal subject, or "system" for expiry


class SpendDraw(SQLModel, table=True):
    """How much one SPEND entry took from one lot."""

    __tablename__ = "currency_spend_draw"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="currency_spend_draw_amount_positive"),)

    entry_id: int = Field(primary_key=True, foreign_key="currency_ledger.id")
    lot_id: int = Field(primary_key=True, foreign_key="currency_lot.id")
    amount: int


class IdempotencyRecord(SQLModel, table=True):
    """The result of a mutation that succeeded, under its key, so a retry gets the same answer.

    Keys are scoped to the account, not to the caller: a key such as identity's
    `identity:application:<id>` means one grant whoever relays it, and every check runs under the account lock.
    """

    __tablename__ = "currency_idempotency"

    account_id: int = Field(primary_key=True, foreign_key="currency_account.id")
    key: str = Field(primary_key=True, max_length=128)
    actor: str = Field(max_length=128)               # who made the original request
    operation: str = Field(max_length=16)
    request_hash: str = Field(max_length=64)         # SHA-256 of the canonical request
    response: str                                    # JSON of the result
    entry_id: int = Field(foreign_key="currency_ledger.id")


class Merchant(SQLModel, table=True):
    """A member merchant (加盟店), keyed "{code}:{localId}" like the open-data facilities."""

    __tablename__ = "currency_merchant"

    id: str = Field(primary_key=True, max_length=80)
    municipality_code: str = Field(max_length=6, index=True)
    local_id: str = Field(max_length=72)
    name: str
    name_kana: str | None = None
    category: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    active: bool = True
    joined_on: date | None = None
