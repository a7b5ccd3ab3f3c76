"""Root fields of the currency subgraph. Every mutation runs in one transaction (retried on a lost race)
and is idempotent by its key."""

from __future__ import annotations

from datetime import date
from typing import Optional

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from subgraphs.common.audit_entry import read_audit_log
from subgraphs.common.errors import BadUserInput
from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code
from subgraphs.common.list_sizes import SIZED_BY_LIMIT
from subgraphs.currency import clock, service, transactions, validation
from subgraphs.currency.graphql_types import (
    CurrencyAuditEntry,
    EarningRule, Merchant, PointAccount, PointTransaction, read_account,
)
from subgraphs.currency.models import Merchant as MerchantRow
from subgraphs.currency.rules import current_rules


@strawberry.input(description="Grant points for an activity (staff with currency:write, or an integration client)")
class GrantPointsInput:
    resident_id: strawberry.ID
    activity: str = strawberry.field(description="an earning rule code, e.g. ONLINE_APPLICATION, HEALTH_CHECKUP")
    occurred_on: Optional[date] = strawberry.field(default=None, description="day of the activity; default today")
    reference: Optional[str] = strawberry.field(default=None, description="e.g. the application id")
    idempotency_key: str = strawberry.field(description="the same key and request always give the same result")


@strawberry.input(description="Pay at a member merchant with points (the account holder)")
class SpendPointsInput:
    resident_id: strawberry.ID
    merchant_id: strawberry.ID
    amount: int
    idempotency_key: str


@strawberry.type
class Query:
    @strawberry.field(description="earning rules in force (public)")
    def earning_rules(self) -> list[EarningRule]:
        return [EarningRule.from_rule(r) for r in current_rules().activities.values()]

    @strawberry.field(description="member merchants (public)")
    async def merchants(self, info: Info, municipality_code: Optional[str] = None) -> list[Merchant]:
        statement = select(MerchantRow).where(MerchantRow.active.is_(True))
        if municipality_code is not None:
            try:
                statement = statement.where(MerchantRow.municipality_code == normalize_code(municipality_code))
            except InvalidMunicipalityCode as error:
                raise BadUserInput(str(error), field="municipalityCode") from None
        async with info.context.transaction() as session:
            rows = await session.execute(statement.order_by(MerchantRow.id))
            return [Merchant.from_row(r) for r in rows.scalars()]

    @strawberry.field(description="one member merchant by \"{code}:{localId}\" (public)")
    async def merchant(self, info: Info, id: strawberry.ID) -> Optional[Merchant]:
        key = validation.facility_id(str(id), field="id")
        async with info.context.transaction() as session:
            row = await session.get(MerchantRow, key)
        return Merchant.from_row(row) if row else None

    @strawberry.field(description="currency's audit log for the caller's own municipality (staff, audit:read)", directives=[SIZED_BY_LIMIT])
    async def currency_audit_log(self, info: Info, subject: Optional[strawberry.ID] = None,
                                 limit: int = 100) -> list[CurrencyAuditEntry]:
        return await read_audit_log(info, CurrencyAuditEntry, subject, limit)

    @strawberry.field(description="a point account, for its holder or staff of their municipality")
    async def point_account(self, info: Info, resident_id: strawberry.ID) -> Optional[PointAccount]:
        return await read_account(info, validation.resident_id(str(resident_id)), purpose="point account lookup")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="grant points for an activity under the earning rules (caps, expiry)")
    async def grant_points(self, info: Info, input: GrantPointsInput) -> PointTransaction:
        rules = current_rules()
        today = clock.today(rules)

        async def work(session):  # noqa: ANN001, ANN202
            return await service.grant_points(
                info.context, session, resident_id=str(input.resident_id), activity_code=input.activity,
                occurred_on=input.occurred_on, reference=input.reference, idempotency_key=input.idempotency_key,
                today=today, rules=rules)

        return PointTransaction.from_result(await transactions.in_transaction(info.context, work))

    @strawberry.mutation(description="pay at a member merchant; earliest-expiring points are used first")
    async def spend_points(self, info: Info, input: SpendPointsInput) -> PointTransaction:
        rules = current_rules()
        today = clock.today(rules)

        async def work(session):  # noqa: ANN001, ANN202
            return await service.spend_points(
                info.context, session, resident_id=str(input.resident_id), merchant_id=str(input.merchant_id),
                amount=input.amount, idempotency_key=input.idempotency_key, today=today, rules=rules)

        return PointTransaction.from_result(await transactions.in_transaction(info.context, work))

    @strawberry.mutation(description="the signed-in resident opens their point account (idempotent)")
    async def open_point_account(self, info: Info) -> PointAccount:
        rules = current_rules()

        async def work(session):  # noqa: ANN001, ANN202
            return await service.open_account(info.context, session, clock.today(rules))

        return PointAccount.from_row(await transactions.in_transaction(info.context, work))
