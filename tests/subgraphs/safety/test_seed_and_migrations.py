from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import inspect, select

from subgraphs.common.db import Database, alembic_config, upgrade_async
from subgraphs.common.municipality import KAKOGAWA_BASIN, KASAI, is_valid_code
from subgraphs.common.roster import PEOPLE_BY_ID
from subgraphs.safety import models
from subgraphs.safety.seed import seed

SEEDED = (models.EvacuationSpace, models.Shelter, models.Aed, models.FloodSensor, models.RiverGauge,
          models.RiverObservation, models.TagDetector, models.WatchTag, models.TagDetection)


async def _dump(database: Database) -> dict[str, list[dict]]:
    async with database.transaction() as session:
        result = {}
        for model in SEEDED:
            rows = (await session.execute(select(model))).scalars()
            result[model.__tablename__] = sorted((r.model_dump(exclude={"id"} if model in (
                models.RiverObservation, models.TagDetection) else set()) for r in rows), key=repr)
        return result


async def test_seed_is_deterministic_and_idempotent(safety_db):
    now = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    async with safety_db.transaction() as session:
        counts = await seed(session, now=now)
    first = await _dump(safety_db)
    assert all(counts.values())
    async with safety_db.transaction() as session:
        await seed(session, now=now)
    assert await _dump(safety_db) == first


async def test_seed_respects_the_domain(seeded_db):
    async with seeded_db.transaction() as session:
        sensors = list((await session.execute(select(models.FloodSensor))).scalars())
        tags = list((await session.execute(select(models.WatchTag))).scalars())
        facilities = [r for m in (models.Shelter, models.EvacuationSpace, models.Aed)
                      for r in (await session.execute(select(m))).scalars()]
    assert {s.municipality_code for s in sensors} == set(KAKOGAWA_BASIN)  # all six, and only them
    assert KASAI not in {s.municipality_code for s in sensors}
    assert all(is_valid_code(f.municipality_code) and f.id == f"{f.municipality_code}:{f.local_id}"
               for f in facilities)
    for tag in tags:  # guardians come from the shared roster and are adults with children
        guardian = PEOPLE_BY_ID[tag.guardian_id]
        assert any(guardian.id in p.guardian_ids for p in PEOPLE_BY_ID.values())
        assert tag.municipality_code == guardian.municipality_code


async def test_migrations_go_down_and_up_again(safety_db):
    from alembic import command

    def table_names(connection) -> set[str]:  # noqa: ANN001
        return set(inspect(connection).get_table_names())

    async with safety_db.engine.connect() as connection:
        assert {"safety_shelter", "safety_watch_tag", "audit_record"} <= await connection.run_sync(table_names)

    async with safety_db.engine.begin() as connection:
        def downgrade(sync_connection) -> None:  # noqa: ANN001
            config = alembic_config("safety", safety_db.url)
            config.attributes["connection"] = sync_connection
            command.downgrade(config, "base")

        await connection.run_sync(downgrade)
    async with safety_db.engine.connect() as connection:
        assert not {t for t in await connection.run_sync(table_names) if t.startswith(("safety_", "audit_"))}
    await upgrade_async("safety", safety_db.url)
    async with safety_db.engine.connect() as connection:
        assert "safety_tag_detection" in await connection.run_sync(table_names)


async def test_seed_without_a_reference_time_is_current(safety_db, make_post):
    """What `kyodo seed` / `kyodo dev` do (no `now`): sensors have just reported and gauges read current levels,
    whatever today's date is; each unhealthy state still appears once or twice for demos."""
    async with safety_db.transaction() as session:
        await seed(session)
    post = make_post(safety_db)
    body = await post("""{ kakogawaBasin { floodSensors { id health lastReportAt } }
                          riverGauges { stationName latest { observedAt stage } } }""")
    assert "errors" not in body, body
    sensors = [s for m in body["data"]["kakogawaBasin"] for s in m["floodSensors"]]
    health = Counter(s["health"] for s in sensors)
    assert health["OK"] >= 0.8 * len(sensors), health
    assert {"OFFLINE", "STALE", "LOW_BATTERY", "WEAK_LINK"} <= set(health), health
    now = datetime.now(timezone.utc)
    for gauge in body["data"]["riverGauges"]:
        observed = datetime.fromisoformat(gauge["latest"]["observedAt"])
        assert timedelta(0) <= now - observed < timedelta(hours=1), gauge
    stages = {g["stationName"]: g["latest"]["stage"] for g in body["data"]["riverGauges"]}
    assert stages == {"国包": "CAUTION", "板波": "NORMAL"}   # the flood watch that opened Kakogawa's shelters


async def test_seed_is_deterministic_given_any_reference_time(safety_db):
    later = datetime(2031, 3, 5, 14, 30, tzinfo=timezone.utc)
    async with safety_db.transaction() as session:
        await seed(session, now=later)
    first = await _dump(safety_db)
    async with safety_db.transaction() as session:
        await seed(session, now=later)
    assert await _dump(safety_db) == first
    latest = max(o["observed_at"] for o in first["safety_river_observation"])
    assert latest.replace(tzinfo=timezone.utc) == later
