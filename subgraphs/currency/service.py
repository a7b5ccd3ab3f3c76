"""Grants, spending and expiry on the ledger, safe under concurrency on PostgreSQL and SQLite.

Every mutation runs in one transaction: it decides authorization without writing (a refusal is audited on
its own), then, before it reads the balance, bumps the account's `version` with an UPDATE: on PostgreSQL
that takes the row lock (like SELECT … FOR UPDATE) until commit; on SQLite it takes the database write lock. Concurrent mutations of one account therefore run one after the other and
each sees the previous one's committed result. The idempotency record is written in the same transaction
as the entry it describes, so a retried request finds either nothing (the first attempt rolled back) or the
stored result (it committed) — never half of it. The permitted access is audited last, in the same
transaction, so the account lock (not the audit chain's) is what orders work on one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common.context import RequestContext
from subgraphs.common.errors import Forbidden, KyodoError, NotFound, Unauthenticated
from subgraphs.currency import access, validation
from subgraphs.currency.access import PLATFORM, authorize_account
from subgraphs.currency.ledger import (
    CapReached,
    CapUsage,
    InsufficientPoints,
    LotView,
    allocate_spend,
    capped_points,
    due_expiries,
    expiry_date,
    fiscal_year_end,
    fiscal_year_start,
)
from subgraphs.currency.idempotency import Draw, MutationResult, remember, request_hash, stored_result
from subgraphs.currency.models import (
    EXPIRE,
    GRANT,
    SPEND,
    LedgerEntry,
    Merchant,
    PointAccount,
    PointLot,
    SpendDraw,
)
from subgraphs.currency.rules import ActivityRule, EarningRules

INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
CAP_REACHED = "CAP_REACHED"


# --- reading -------------------------------------------------------------------------------------------

async def account_by_resident(session: AsyncSession, resident_id: str) -> PointAccount | None:
    found = await session.execute(select(PointAccount).where(PointAccount.resident_id == resident_id))
    return found.scalar_one_or_none()


def missing_account_error(ctx: RequestContext, resident_id: str) -> KyodoError:
    """Say NOT_FOUND only to someone who could have seen the account; others learn nothing."""
    principal = ctx.principal
    if principal is None:
        return Unauthenticated("personal data needs a caller vouched for by the gateway")
    if principal.subject == resident_id or ("staff" in principal.roles and f"{PLATFORM}:read" in principal.scopes):
        return NotFound(f"no point account for resident {resident_id}")
    return Forbidden("not allowed to act on this point account")


async def lots_of(session: AsyncSession, account_id: int, *, open_only: bool = True) -> list[PointLot]:
    statement = select(PointLot).where(PointLot.account_id == account_id)
    if open_only:
        statement = statement.where(PointLot.remaining > 0)
    found = await session.execute(statement.order_by(PointLot.expires_on, PointLot.id))
    return list(found.scalars())


async def ledger_of(session: AsyncSession, account_id: int, limit: int = 50) -> list[LedgerEntry]:
    found = await session.execute(select(LedgerEntry).where(LedgerEntry.account_id == account_id)
                                  .order_by(LedgerEntry.id.desc()).limit(limit))
    return list(found.scalars())


async def ledger_totals(session: AsyncSession, account_id: int) -> dict[str, int]:
    """Σ amount per entry kind — the invariant's right-hand side."""
    rows = await session.execute(select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
                                 .where(LedgerEntry.account_id == account_id).group_by(LedgerEntry.kind))
    totals = {GRANT: 0, SPEND: 0, EXPIRE: 0}
    totals.update({kind: int(total) for kind, total in rows})
    return totals


# --- the lock and expiry ---------------------------------------------------------------------------------

async def _lock_account(session: AsyncSession, account_id: int) -> int:
    """Take the account's write lock for this transaction; returns the committed balance."""
    bumped = await session.execute(update(PointAccount).where(PointAccount.id == account_id)
                                   .values(version=PointAccount.version + 1).returning(PointAccount.balance))
    return int(bumped.scalar_one())


async def _set_balance(session: AsyncSession, account_id: int, balance: int) -> None:
    await session.execute(update(PointAccount).where(PointAccount.id == account_id).values(balance=balance))


async def book_expiries(session: AsyncSession, account_id: int, balance: int, today: date) -> int:
    """Write an EXPIRE entry for every lot past its last day; returns the new balance. Caller holds the lock."""
    lots = await lots_of(session, account_id)
    by_id = {lot.id: lot for lot in lots}
    for lot_id, points in due_expiries([LotView(l.id, l.expires_on, l.remaining) for l in lots], today):
        balance -= points
        by_id[lot_id].remaining = 0
        session.add(LedgerEntry(account_id=account_id, kind=EXPIRE, amount=points, booked_on=today,
                                balance_after=balance, lot_id=lot_id, actor="system"))
    await session.flush()
    return balance


# --- mutations -----------------------------------------------------------------------------------------

async def grant_points(ctx: RequestContext, session: AsyncSession, *, resident_id: str, activity_code: str,
                       occurred_on: date | None, reference: str | None, idempotency_key: str,
                       today: date, rules: EarningRules) -> MutationResult:
    resident_id = validation.resident_id(resident_id)
    rule = validation.activity(activity_code, rules)
    day = validation.occurred_on(occurred_on, today, rules)
    reference = validation.reference(reference)
    key = validation.idempotency_key(idempotency_key)
    account = await account_by_resident(session, resident_id)
    if account is None:
        raise missing_account_error(ctx, resident_id)
    permission = await access.check_grant(ctx, session, account, fields=("pointAccount.grant",),
                                          purpose=f"grant:{rule.code}")
    actor = ctx.principal.subject
    fingerprint = request_hash("grant", resident=resident_id, activity=rule.code, occurred_on=day.isoformat(),
                               reference=reference)
    balance = await _lock_account(session, account.id)
    # under the lock: a concurrent retry of this very request has either committed its result or not started
    stored = await stored_result(session, account.id, key, "grant", fingerprint)
    if stored is None:
        balance = await book_expiries(session, account.id, balance, today)
        stored = await apply_grant(session, account, balance, rule, rules, day=day, today=today,
                                   reference=reference, actor=actor)
        await remember(session, account.id, actor, key, "grant", fingerprint, stored)
    await access.record(ctx, session, permission)
    return stored


async def apply_grant(session: AsyncSession, account: PointAccount, balance: int, rule: ActivityRule,
                      rules: EarningRules, *, day: date, today: date, reference: str | None,
                      actor: str) -> MutationResult:
    """Book one grant under the caps (caller holds the account lock and passes the current balance)."""
    usage = await _cap_usage(session, account.id, rule.code, day, rules.fiscal_year_start_month)
    try:
        points, capped_by = capped_points(rule, rules, usage)
    except CapReached as exc:
        raise KyodoError(f"no points granted: the {exc.which} cap for {rule.code} is reached", code=CAP_REACHED,
                         cap=exc.which) from None
    expires_on = expiry_date(rule.expiry, today, rules.fiscal_year_start_month)
    lot = PointLot(account_id=account.id, granted_on=today, expires_on=expires_on, original=points, remaining=points)
    session.add(lot)
    await session.flush()
    balance += points
    entry = LedgerEntry(account_id=account.id, kind=GRANT, amount=points, booked_on=today, balance_after=balance,
                        activity_code=rule.code, occurred_on=day, reference=reference, lot_id=lot.id, actor=actor)
    session.add(entry)
    await session.flush()
    await _set_balance(session, account.id, balance)
    return MutationResult(entry_id=entry.id, kind=GRANT, resident_id=account.resident_id, amount=points,
                          balance=balance, booked_on=today, activity_code=rule.code, capped_by=capped_by,
                          expires_on=expires_on)


async def _cap_usage(session: AsyncSession, account_id: int, activity_code: str, day: date,
                     start_month: int) -> CapUsage:
    year_from, year_to = fiscal_year_start(day, start_month), fiscal_year_end(day, start_month)
    total = func.coalesce(func.sum(LedgerEntry.amount), 0)
    grants = select(total).where(LedgerEntry.account_id == account_id, LedgerEntry.kind == GRANT)
    in_year = grants.where(LedgerEntry.occurred_on >= year_from, LedgerEntry.occurred_on <= year_to)
    today_used = await session.scalar(grants.where(LedgerEntry.activity_code == activity_code,
                                                   LedgerEntry.occurred_on == day))
    activity_year = await session.scalar(in_year.where(LedgerEntry.activity_code == activity_code))
    all_year = await session.scalar(in_year)
    return CapUsage(int(today_used), int(activity_year), int(all_year))


async def spend_points(ctx: RequestContext, session: AsyncSession, *, resident_id: str, merchant_id: str,
                       amount: int, idempotency_key: str, today: date, rules: EarningRules) -> MutationResult:
    resident_id = validation.resident_id(resident_id)
    merchant_id = validation.facility_id(merchant_id)
    amount = validation.amount(amount, rules)
    key = validation.idempotency_key(idempotency_key)
    merchant = await session.get(Merchant, merchant_id)
    if merchant is None or not merchant.active:
        raise NotFound(f"{merchant_id} is not a member merchant", field="merchantId")
    account = await account_by_resident(session, resident_id)
    if account is None:
        raise missing_account_error(ctx, resident_id)
    permission = await access.check_account(ctx, session, account, fields=("pointAccount.spend",),
                                            purpose="payment", write=True, allow=("self",))
    actor = ctx.principal.subject
    fingerprint = request_hash("spend", resident=resident_id, merchant=merchant_id, amount=amount)
    balance = await _lock_account(session, account.id)
    # under the lock: a concurrent retry of this very request has either committed its result or not started
    stored = await stored_result(session, account.id, key, "spend", fingerprint)
    if stored is not None:
        await access.record(ctx, session, permission)
        return stored
    balance = await book_expiries(session, account.id, balance, today)
    lots = await lots_of(session, account.id)
    try:
        draws = allocate_spend([LotView(l.id, l.expires_on, l.remaining) for l in lots], amount, today)
    except InsufficientPoints as exc:
        raise KyodoError(f"not enough points: {exc.available} pt available, {exc.requested} pt asked",
                         code=INSUFFICIENT_POINTS, available=exc.available) from None
    balance -= amount
    entry = LedgerEntry(account_id=account.id, kind=SPEND, amount=amount, booked_on=today, balance_after=balance,
                        merchant_id=merchant_id, actor=actor)
    session.add(entry)
    await session.flush()
    by_id = {lot.id: lot for lot in lots}
    for lot_id, points in draws:
        by_id[lot_id].remaining -= points
        session.add(SpendDraw(entry_id=entry.id, lot_id=lot_id, amount=points))
    await session.flush()
    await _set_balance(session, account.id, balance)
    result = MutationResult(entry_id=entry.id, kind=SPEND, resident_id=resident_id, amount=amount, balance=balance,
                            booked_on=today, merchant_id=merchant_id,
                            draws=tuple(Draw(lot_id, points, by_id[lot_id].expires_on) for lot_id, points in draws))
    await remember(session, account.id, actor, key, "spend", fingerprint, result)
    await access.record(ctx, session, permission)
    return result


@dataclass(frozen=True)
class AccountExpiry:
    """What the expiry job took from one account."""

    resident_id: str
    municipality_code: str
    expired: int
    balance: int          # after the expiry


async def expire_accounts(session: AsyncSession, today: date) -> list[AccountExpiry]:
    """Book every due expiry (the nightly job), one account lock at a time; what each account lost."""
    due = await session.execute(select(PointLot.account_id).where(PointLot.remaining > 0,
                                                                  PointLot.expires_on < today).distinct())
    report = []
    for account_id in sorted(due.scalars()):
        balance = await _lock_account(session, account_id)
        after = await book_expiries(session, account_id, balance, today)
        await _set_balance(session, account_id, after)
        account = await session.get(PointAccount, account_id)
        report.append(AccountExpiry(account.resident_id, account.municipality_code, balance - after, after))
    return report


async def expire_all(session: AsyncSession, today: date) -> int:
    """Book every due expiry (a nightly job); returns the points expired."""
    return sum(item.expired for item in await expire_accounts(session, today))


async def refresh_for_read(session: AsyncSession, account: PointAccount, today: date) -> PointAccount:
    """Book due expiries before showing an account, so the balance shown is spendable today."""
    has_due = await session.scalar(select(func.count()).select_from(PointLot).where(
        PointLot.account_id == account.id, PointLot.remaining > 0, PointLot.expires_on < today))
    if has_due:
        balance = await _lock_account(session, account.id)
        balance = await book_expiries(session, account.id, balance, today)
        await _set_balance(session, account.id, balance)
    await session.refresh(account)
    return account


async def open_account(ctx: RequestContext, session: AsyncSession, today: date) -> PointAccount:
    """The calling resident opens their own account (idempotent: returns the existing one)."""
    principal = ctx.principal
    if principal is None:
        raise Unauthenticated("opening an account needs a caller vouched for by the gateway")
    if "resident" not in principal.roles or "vendor" in principal.roles or not principal.municipality:
        raise Forbidden("only a resident can open their own point account")
    existing = await account_by_resident(session, principal.subject)
    account = existing or PointAccount(resident_id=principal.subject, municipality_code=principal.municipality,
                                       opened_on=today)
    # authorize before writing: a refusal is audited in its own transaction, which must not wait on ours
    await authorize_account(ctx, session, account, fields=("pointAccount.open",), purpose="open account",
                            write=True, allow=("self",))
    if existing is None:
        session.add(account)
        await session.flush()
    return account
