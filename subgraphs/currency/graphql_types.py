"""currency's GraphQL types. A `PointAccount` is built only after the access rule allowed (and audited) the
read, and after due expiries were booked, so its balance is what can be spent today."""

from __future__ import annotations

import enum
from datetime import date
from typing import Any, Optional

import strawberry
from strawberry.federation.schema_directives import Cost, ListSize, Tag
from strawberry.types import Info

from subgraphs.common.audit_entry import audit_entry_type
from subgraphs.common.request_loaders import load_row
from subgraphs.common.municipality_entity import MunicipalityReference, platform_joined
from subgraphs.common.selection import selected_field_names
from subgraphs.currency import clock, service
from subgraphs.currency.access import PLATFORM, authorize_account
from subgraphs.currency.idempotency import MutationResult
from subgraphs.currency.models import LedgerEntry as LedgerRow
from subgraphs.currency.models import Merchant as MerchantRow
from subgraphs.currency.models import PointAccount as AccountRow
from subgraphs.currency.models import PointLot as LotRow
from subgraphs.currency.rules import ActivityRule, current_rules

CurrencyAuditEntry = audit_entry_type("CurrencyAuditEntry", "One record of this subgraph's hash-chained audit log")


@strawberry.enum(description="GRANT adds points, SPEND and EXPIRE take them away")
class LedgerKind(enum.Enum):
    GRANT = "GRANT"
    SPEND = "SPEND"
    EXPIRE = "EXPIRE"


@strawberry.federation.type(keys=["code"], description="A municipality by its 6-digit 全国地方公共団体コード")
class Municipality(MunicipalityReference):
    code: strawberry.ID

    @strawberry.field(description="whether this municipality has joined Kasai's currency platform (共同利用)")
    async def currency_joined(self, info: Info) -> bool:
        return await platform_joined(info, PLATFORM, str(self.code))


@strawberry.federation.type(keys=["id"], description="A member merchant (加盟店); id = \"{code}:{localId}\"")
class Merchant:
    id: strawberry.ID
    municipality: Municipality
    local_id: str
    name: str
    name_kana: Optional[str]
    category: Optional[str]
    address: Optional[str]
    latitude: Optional[float]
    longitude: Optional[float]
    phone: Optional[str]
    active: bool

    @classmethod
    def from_row(cls, row: MerchantRow) -> Merchant:
        return cls(id=strawberry.ID(row.id), municipality=Municipality(code=strawberry.ID(row.municipality_code)),
                   local_id=row.local_id, name=row.name, name_kana=row.name_kana, category=row.category,
                   address=row.address, latitude=row.latitude, longitude=row.longitude, phone=row.phone,
                   active=row.active)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> Optional[Merchant]:
        row = await load_row(info.context, MerchantRow, id)   # one query for the whole `_entities` batch
        return cls.from_row(row) if row else None


@strawberry.type(description="Points granted together, with one expiry date", directives=[Tag(name="personal")])
class PointLot:
    id: strawberry.ID
    kind: str = strawberry.field(description="administrative (granted) — kept apart from charged points")
    granted_on: date
    expires_on: date = strawberry.field(description="last day these points can be spent")
    original: int
    remaining: int

    @classmethod
    def from_row(cls, row: LotRow) -> PointLot:
        return cls(id=strawberry.ID(str(row.id)), kind=row.kind, granted_on=row.granted_on,
                   expires_on=row.expires_on, original=row.original, remaining=row.remaining)


@strawberry.type(description="One ledger entry; the balance is always Σ grants − Σ spends − Σ expiries", directives=[Tag(name="personal")])
class LedgerEntry:
    id: strawberry.ID
    kind: LedgerKind
    amount: int = strawberry.field(description="positive; the kind gives the sign")
    booked_on: date
    balance_after: int
    activity_code: Optional[str]
    occurred_on: Optional[date]
    reference: Optional[str]
    merchant_id: Optional[strawberry.ID]

    @classmethod
    def from_row(cls, row: LedgerRow) -> LedgerEntry:
        return cls(id=strawberry.ID(str(row.id)), kind=LedgerKind(row.kind), amount=row.amount,
                   booked_on=row.booked_on, balance_after=row.balance_after, activity_code=row.activity_code,
                   occurred_on=row.occurred_on, reference=row.reference,
                   merchant_id=strawberry.ID(row.merchant_id) if row.merchant_id else None)


@strawberry.type(description="Ledger sums of one account")
class LedgerTotals:
    granted: int
    spent: int
    expired: int


# every PointAccount read is authorized and audited: demand control weighs it as 10 plain objects
@strawberry.type(description="A resident's point account", directives=[Cost(weight=10), Tag(name="personal")])
class PointAccount:
    resident_id: strawberry.ID
    municipality: Municipality
    balance: int = strawberry.field(description="points spendable today")
    opened_on: date
    account_id: strawberry.Private[int]

    @strawberry.field(description="the holder as identity's Resident")
    def resident(self) -> Resident:
        return Resident(id=self.resident_id)

    @strawberry.field(description="lots holding points, earliest-expiring first (spent in this order)")
    async def lots(self, info: Info, include_empty: bool = False) -> list[PointLot]:
        async with info.context.transaction() as session:
            rows = await service.lots_of(session, self.account_id, open_only=not include_empty)
        return [PointLot.from_row(r) for r in rows]

    @strawberry.field(description="Σ per entry kind: balance = granted − spent − expired")
    async def totals(self, info: Info) -> LedgerTotals:
        async with info.context.transaction() as session:
            totals = await service.ledger_totals(session, self.account_id)
        return LedgerTotals(granted=totals["GRANT"], spent=totals["SPEND"], expired=totals["EXPIRE"])

    @strawberry.field(description="ledger entries, newest first", directives=[ListSize(slicing_arguments=["limit"])])
    async def ledger(self, info: Info, limit: int = 50) -> list[LedgerEntry]:
        async with info.context.transaction() as session:
            rows = await service.ledger_of(session, self.account_id, max(1, min(limit, 500)))
        return [LedgerEntry.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: AccountRow) -> PointAccount:
        return cls(resident_id=strawberry.ID(row.resident_id),
                   municipality=Municipality(code=strawberry.ID(row.municipality_code)), balance=row.balance,
                   opened_on=row.opened_on, account_id=row.id)


async def read_account(info: Info, resident_id: str, purpose: str) -> Optional[PointAccount]:
    """The account for the holder or staff of their municipality; None if the resident has none."""
    ctx = info.context
    async with ctx.transaction() as session:
        row = await service.account_by_resident(session, resident_id)
        if row is None:
            missing = service.missing_account_error(ctx, resident_id)
            if missing.code == "NOT_FOUND":
                return None
            raise missing
        await authorize_account(ctx, session, row, fields=selected_field_names(info), purpose=purpose)
        await service.refresh_for_read(session, row, clock.today(current_rules()))
        return PointAccount.from_row(row)


@strawberry.federation.type(keys=["id"], description="A resident; identity issues the pseudonymous id")
class Resident:
    id: strawberry.ID

    @strawberry.field(description="the resident's point account (the resident, or staff of their municipality)")
    async def point_account(self, info: Info) -> Optional[PointAccount]:
        return await read_account(info, str(self.id), purpose="point account")

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Resident:
        return cls(id=id)


@strawberry.type(description="An earning rule (configuration, public)")
class EarningRule:
    code: str
    name: str
    category: str = strawberry.field(description="application, health or civic")
    points: int
    daily_cap: int
    yearly_cap: int = strawberry.field(description="per fiscal year (April–March)")
    expiry: str = strawberry.field(description="fiscal-year-end, or <N>d counting the grant day")

    @classmethod
    def from_rule(cls, rule: ActivityRule) -> EarningRule:
        return cls(code=rule.code, name=rule.name, category=rule.category, points=rule.points,
                   daily_cap=rule.daily_cap, yearly_cap=rule.yearly_cap, expiry=str(rule.expiry))


@strawberry.type(directives=[Tag(name="personal")])
class PointDraw:
    lot_id: strawberry.ID
    amount: int
    expires_on: date


@strawberry.type(description="The result of a grant or a payment; a retry with the same key returns it again", directives=[Tag(name="personal")])
class PointTransaction:
    entry_id: strawberry.ID
    kind: LedgerKind
    resident_id: strawberry.ID
    amount: int
    balance: int = strawberry.field(description="the balance right after this transaction")
    booked_on: date
    activity_code: Optional[str]
    capped_by: Optional[str] = strawberry.field(description="the cap that reduced this grant, if any")
    expires_on: Optional[date]
    merchant_id: Optional[strawberry.ID]
    draws: list[PointDraw] = strawberry.field(description="lots a payment drew on, earliest-expiring first")
    replayed: bool = strawberry.field(description="true when this answers a retry of an earlier request")

    @classmethod
    def from_result(cls, result: MutationResult) -> PointTransaction:
        return cls(entry_id=strawberry.ID(str(result.entry_id)), kind=LedgerKind(result.kind),
                   resident_id=strawberry.ID(result.resident_id), amount=result.amount, balance=result.balance,
                   booked_on=result.booked_on, activity_code=result.activity_code, capped_by=result.capped_by,
                   expires_on=result.expires_on,
                   merchant_id=strawberry.ID(result.merchant_id) if result.merchant_id else None,
                   draws=[PointDraw(lot_id=strawberry.ID(str(d.lot_id)), amount=d.amount, expires_on=d.expires_on)
                          for d in result.draws],
                   replayed=result.replayed)
