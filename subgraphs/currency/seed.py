"""Seed currency: an account for every roster resident, a few grants earned in fiscal 2026, synthetic member
merchants with real place names, and co-use. Deterministic and idempotent (existing rows are left alone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.common import co_use
from subgraphs.common.municipality import HIMEJI, KAKOGAWA, KASAI, MUNICIPALITIES
from subgraphs.common.roster import ROSTER, Person
from subgraphs.common.trial_roster import trial_people
from subgraphs.currency.models import AccountGuardian, Merchant, PointAccount
from subgraphs.currency.rules import EarningRules, current_rules
from subgraphs.currency.service import apply_grant

OPENED_ON = date(2026, 4, 1)
SEEDED_BY = "seed"

# (activity, day) grants every adult earned; all expire after late 2026 (fiscal-year end or 180/365 days).
ADULT_GRANTS: tuple[tuple[str, date], ...] = (
    ("HEALTH_CHECKUP", date(2026, 6, 10)),
    ("VOLUNTEER", date(2026, 7, 5)),
    ("WALKING_GOAL", date(2026, 9, 1)),
    ("WALKING_GOAL", date(2026, 9, 2)),
    ("ONLINE_APPLICATION", date(2026, 10, 1)),
)

MERCHANTS: tuple[Merchant, ...] = (
    Merchant(id=f"{KASAI}:M001", municipality_code=KASAI, local_id="M001", name="ほうじょう青果店",
             name_kana="ホウジョウセイカテン", category="食料品", address="兵庫県加西市北条町北条",
             latitude=34.9329, longitude=134.8331, active=True, joined_on=date(2024, 4, 1)),
    Merchant(id=f"{KASAI}:M002", municipality_code=KASAI, local_id="M002", name="ふるさかベーカリー",
             name_kana="フルサカベーカリー", category="飲食", address="兵庫県加西市北条町古坂",
             latitude=34.9301, longitude=134.8402, active=True, joined_on=date(2024, 4, 1)),
    Merchant(id=f"{KASAI}:M003", municipality_code=KASAI, local_id="M003", name="ねひめ書房",
             name_kana="ネヒメショボウ", category="書籍", address="兵庫県加西市北条町横尾", active=False,
             joined_on=date(2024, 4, 1)),
    Merchant(id=f"{HIMEJI}:M101", municipality_code=HIMEJI, local_id="M101", name="しらはま日用品店",
             name_kana="シラハマニチヨウヒンテン", category="日用品", address="兵庫県姫路市白浜町", active=True,
             joined_on=date(2025, 4, 1)),
    Merchant(id=f"{KAKOGAWA}:M201", municipality_code=KAKOGAWA, local_id="M201", name="てらけまち喫茶",
             name_kana="テラケマチキッサ", category="飲食", address="兵庫県加古川市加古川町寺家町", active=True,
             joined_on=date(2025, 4, 1)),
)


async def seed(session: AsyncSession, rules: EarningRules | None = None) -> None:
    rules = rules or current_rules()
    await co_use.seed_memberships(session)
    await seed_accounts(session, ROSTER, rules)
    await seed_merchants(session)


async def seed_sandbox(session: AsyncSession) -> None:
    """The trial sandbox: point accounts of every municipality's synthetic residents, and the merchants."""
    rules = current_rules()
    for code in MUNICIPALITIES:
        await seed_accounts(session, trial_people(code), rules)
    await seed_merchants(session)


async def seed_accounts(session: AsyncSession, people: Sequence[Person], rules: EarningRules) -> None:
    """A point account for each of `people` that has none, adults with the seeded grants (idempotent)."""
    present = set((await session.execute(select(PointAccount.resident_id))).scalars())
    for person in people:
        if person.id in present:
            continue
        account = PointAccount(resident_id=person.id, municipality_code=person.municipality_code, opened_on=OPENED_ON)
        session.add(account)
        await session.flush()
        for guardian_id in person.guardian_ids:
            session.add(AccountGuardian(account_id=account.id, guardian_id=guardian_id))
        if _is_adult(person):
            balance = 0
            for activity, day in ADULT_GRANTS:
                result = await apply_grant(session, account, balance, rules.activities[activity], rules, day=day,
                                           today=day, reference="seed", actor=SEEDED_BY)
                balance = result.balance


async def seed_merchants(session: AsyncSession) -> None:
    merchants = set((await session.execute(select(Merchant.id))).scalars())
    for merchant in MERCHANTS:
        if merchant.id not in merchants:
            session.add(Merchant(**merchant.model_dump()))
    await session.flush()


def _is_adult(person: Person) -> bool:
    return person.age_on(OPENED_ON) >= 18
