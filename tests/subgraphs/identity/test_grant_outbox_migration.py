"""identity_0002 on a database that already holds grant requests: the amount identity had written is dropped
from pending ones (currency's rules decide it now), and a downgrade gives the old NOT NULL column back."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

from subgraphs.common.db import Database, downgrade_async, upgrade_async

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


async def test_upgrade_and_downgrade_keep_requests(database_url):
    await upgrade_async("identity", database_url, "identity_0001")
    database = Database("identity", database_url)
    try:
        async with database.transaction() as session:
            await session.execute(text(
                "INSERT INTO identity_household (id, municipality_code, address, pets) VALUES ('h', '282227', 'x', '[]')"))
            await session.execute(text(
                "INSERT INTO identity_resident (id, municipal_id, family_name, given_name, family_kana, given_kana, "
                "birth_date, sex, municipality_code, household_id, care_needs) VALUES "
                "('r', 'm', 'a', 'b', 'ア', 'イ', '1990-01-01', 1, '282227', 'h', '[]')"))
            await session.execute(text(
                "INSERT INTO identity_application (id, resident_id, kind, status, idempotency_key, submitted_at) "
                "VALUES ('app-1', 'r', 'bulky-waste', 'completed', 'k-00000001', :now)"), {"now": NOW})
            await session.execute(text(
                "INSERT INTO identity_currency_grant_request (idempotency_key, resident_id, application_id, activity, "
                "points, status, created_at) VALUES ('identity:application:app-1', 'r', 'app-1', "
                "'online-application', 50, 'pending', :now)"), {"now": NOW})
        await upgrade_async("identity", database_url)
        async with database.sessions() as session:
            row = (await session.execute(text(
                "SELECT status, points, attempts, reason_code FROM identity_currency_grant_request"))).one()
        assert tuple(row) == ("pending", None, 0, None)
        await downgrade_async("identity", database_url, "identity_0001")
        async with database.sessions() as session:
            row = (await session.execute(text("SELECT status, points FROM identity_currency_grant_request"))).one()
        assert tuple(row) == ("pending", 0)
    finally:
        await database.dispose()
