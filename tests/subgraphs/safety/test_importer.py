from __future__ import annotations

import pytest
from sqlalchemy import func, select

from subgraphs.safety import importer
from subgraphs.safety.importer import ImportFileError, import_csv
from subgraphs.safety.models import Aed, EvacuationSpace

# Current generation (自治体標準オープンデータセット). Line 4 has a wrong check digit (282104),
# line 6 an invalid hazard flag; the 備考 of line 5 spans two physical lines.
CURRENT_EVACUATION = (
    "全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,所在地_連結表記,建物名等(方書),緯度,経度,"
    "災害種別_洪水,災害種別_崖崩れ、土石流及び地滑り,災害種別_高潮,災害種別_地震,災害種別_津波,"
    "災害種別_大規模な火事,災害種別_内水氾濫,災害種別_火山現象,指定避難所との重複,想定収容人数,"
    "対象となる町会・自治会,備考\r\n"
    "282103,T001,加古川市,試験グラウンド一,シケングラウンドイチ,兵庫県加古川市加古川町寺家町,,34.757,134.841,"
    "1,,,1,,1,1,,1,500,寺家町自治会,\r\n"
    "282103,T002,加古川市,試験グラウンド二,,兵庫県加古川市尾上町口里,,34.7345,134.838,,,,1,,,,,,1200,,\r\n"
    "282104,T003,加古川市,誤ったコード,,兵庫県加古川市,,34.75,134.84,,,,1,,,,,,100,,\r\n"
    '282103,T004,加古川市,試験広場,,兵庫県加古川市平岡町,,34.756,134.876,1,,,,,,,,,80,,"二行の\r\n備考"\r\n'
    "282103,T005,加古川市,旗が変,,兵庫県加古川市野口町,,34.768,134.856,2,,,,,,,,,80,,\r\n"
)

# Older generation: 都道府県コード又は市区町村コード in 5-digit form, NO, 住所, 方書, no 災害種別_ prefix.
# Line 3 has no name.
LEGACY_EVACUATION = (
    "都道府県コード又は市区町村コード,NO,名称,住所,建物名等（方書）,緯度,経度,洪水,崖崩れ、土石流及び地滑り,"
    "高潮,地震,津波,大規模な火事,内水氾濫,火山現象,指定避難所との住所同一,想定収容人数\r\n"
    "28213,L01,西脇試験広場,兵庫県西脇市板波町,集会所横,34.993,134.973,1,1,,1,,,,,,300\r\n"
    "28213,L02,,兵庫県西脇市西脇,,34.99,134.97,,,,1,,,,,,\r\n"
    "28218,L01,小野試験広場,兵庫県小野市王子町,,34.853,134.93,,,,1,,1,,,1,\r\n"
)

CURRENT_AED = (
    "全国地方公共団体コード,ID,地方公共団体名,名称,所在地_連結表記,緯度,経度,設置位置,利用可能曜日,開始時間,"
    "終了時間,利用可能日時特記事項,小児対応設備の有無\r\n"
    "282103,AED1,加古川市,試験センター,兵庫県加古川市加古川町,34.757,134.841,1階玄関,月火水木金,8:30,17:15,祝日を除く,有\r\n"
    "282103,AED2,加古川市,試験体育館,兵庫県加古川市野口町,34.768,134.856,入口,月火水木金土日,00:00,24:00,,\r\n"
    "282103,AED3,加古川市,時刻が変,兵庫県加古川市,34.75,134.84,入口,毎日,25:00,26:00,,無\r\n"
)
LEGACY_AED = (
    "都道府県コード又は市区町村コード,NO,名称,住所,緯度,経度,設置位置,利用可能曜日,開始時間,終了時間,小児対応設備の有無\r\n"
    "28210,AED9,旧形式の試験施設,兵庫県加古川市別府町,34.724,134.848,事務室,月水金,９:００,１７:００,無\r\n"
)


def _write(tmp_path, name: str, text: str, encoding: str) -> str:  # noqa: ANN001
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


async def _rows(database, model) -> list:  # noqa: ANN001
    async with database.transaction() as session:
        return list((await session.execute(select(model).order_by(model.id))).scalars())


async def test_current_headers_utf8_with_bom_loads_good_rows_and_reports_bad_lines(safety_db, tmp_path):
    path = _write(tmp_path, "evac.csv", CURRENT_EVACUATION, "utf-8-sig")
    report = await import_csv("evacuation_space", path, database=safety_db, partial=True)
    assert report.encoding == "utf-8-sig" and report.header_generation == "current"
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (4, "全国地方公共団体コード"), (7, "災害種別_洪水")]
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (5, 3, 0, 0)
    rows = {row.id: row for row in await _rows(safety_db, EvacuationSpace)}
    assert set(rows) == {"282103:T001", "282103:T002", "282103:T004"}
    first = rows["282103:T001"]
    assert (first.hazard_flood, first.hazard_earthquake, first.hazard_large_fire, first.hazard_landslide) == (
        True, True, True, False)
    assert (first.also_shelter, first.capacity, first.target_communities) == (True, 500, "寺家町自治会")
    assert rows["282103:T002"].capacity == 1200
    assert rows["282103:T004"].note == "二行の\r\n備考"


async def test_legacy_headers_in_shift_jis_with_five_digit_codes(safety_db, tmp_path):
    path = _write(tmp_path, "legacy.csv", LEGACY_EVACUATION, "shift_jis")
    report = await import_csv("evacuation_space", path, database=safety_db, partial=True)
    assert report.encoding == "shift_jis" and report.header_generation == "legacy"
    assert [(e.line, e.message) for e in report.errors] == [(3, "名称: empty")]
    rows = {row.id: row for row in await _rows(safety_db, EvacuationSpace)}
    assert set(rows) == {"282138:L01", "282189:L01"}  # stored as 6-digit codes with their check digit
    nishiwaki = rows["282138:L01"]
    assert (nishiwaki.municipality_code, nishiwaki.municipality_name) == ("282138", "西脇市")
    assert (nishiwaki.address, nishiwaki.building) == ("兵庫県西脇市板波町", "集会所横")
    assert (nishiwaki.hazard_flood, nishiwaki.hazard_landslide, nishiwaki.hazard_earthquake) == (True, True, True)
    assert rows["282189:L01"].also_shelter is True


async def test_utf8_without_bom_is_detected(safety_db, tmp_path):
    report = await import_csv("aed", _write(tmp_path, "aed.csv", CURRENT_AED, "utf-8"), database=safety_db, partial=True)
    assert report.encoding == "utf-8"
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [(4, "開始時間")]
    rows = {row.id: row for row in await _rows(safety_db, Aed)}
    assert set(rows) == {"282103:AED1", "282103:AED2"}
    aed1, aed2 = rows["282103:AED1"], rows["282103:AED2"]
    assert (aed1.location_in_facility, aed1.available_days, aed1.start_time, aed1.end_time) == (
        "1階玄関", "月火水木金", "08:30", "17:15")
    assert (aed1.availability_note, aed1.pediatric, aed2.pediatric, aed2.end_time) == ("祝日を除く", True, None, "24:00")


async def test_legacy_aed_in_shift_jis(safety_db, tmp_path):
    report = await import_csv("aed", _write(tmp_path, "aed_old.csv", LEGACY_AED, "cp932"), database=safety_db, partial=True)
    assert (report.encoding, report.header_generation, report.inserted, report.errors) == ("shift_jis", "legacy", 1, [])
    (row,) = await _rows(safety_db, Aed)
    assert (row.id, row.address, row.start_time, row.end_time, row.pediatric) == (
        "282103:AED9", "兵庫県加古川市別府町", "09:00", "17:00", False)


async def test_reimport_is_idempotent_and_changes_are_updates(safety_db, tmp_path):
    path = _write(tmp_path, "evac.csv", CURRENT_EVACUATION, "utf-8-sig")
    await import_csv("evacuation_space", path, database=safety_db, partial=True)
    first = [row.model_dump() for row in await _rows(safety_db, EvacuationSpace)]
    again = await import_csv("evacuation_space", path, database=safety_db, partial=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert [row.model_dump() for row in await _rows(safety_db, EvacuationSpace)] == first
    changed = _write(tmp_path, "evac2.csv", CURRENT_EVACUATION.replace(",1200,", ",1300,"), "utf-8-sig")
    third = await import_csv("evacuation_space", changed, database=safety_db, partial=True)
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 2)
    rows = {row.id: row for row in await _rows(safety_db, EvacuationSpace)}
    assert len(rows) == 3 and rows["282103:T002"].capacity == 1300


async def test_a_failure_while_writing_leaves_nothing_half_written(safety_db, tmp_path, monkeypatch):
    path = _write(tmp_path, "evac.csv", CURRENT_EVACUATION, "utf-8-sig")
    await import_csv("evacuation_space", path, database=safety_db, partial=True)
    before = [row.model_dump() for row in await _rows(safety_db, EvacuationSpace)]
    store_rows = importer.store_rows

    async def store_then_fail(session, model, rows, report):  # noqa: ANN001
        await store_rows(session, model, rows, report)  # every row written and flushed in the transaction…
        raise ConnectionError("connection lost before commit")  # …then the connection drops

    monkeypatch.setattr(importer, "store_rows", store_then_fail)
    changed = CURRENT_EVACUATION.replace(",1200,", ",1300,") + \
        "282103,T099,加古川市,新しい広場,,兵庫県加古川市,,34.7,134.8,,,,1,,,,,,10,,\r\n"
    with pytest.raises(ConnectionError):
        await import_csv("evacuation_space", _write(tmp_path, "evac3.csv", changed, "utf-8-sig"), database=safety_db, partial=True)
    assert [row.model_dump() for row in await _rows(safety_db, EvacuationSpace)] == before


async def test_unusable_files_are_refused_before_anything_is_written(safety_db, tmp_path):
    missing = _write(tmp_path, "missing.csv", "ID,名称\r\nX1,どこか\r\n", "utf-8")
    with pytest.raises(ImportFileError, match="missing: 全国地方公共団体コード \\(or 都道府県コード又は市区町村コード"):
        await import_csv("evacuation_space", missing, database=safety_db, partial=True)
    undecodable = tmp_path / "binary.csv"
    undecodable.write_bytes(b"\x80\x81\xff\xfe\x00")
    with pytest.raises(ImportFileError, match="neither UTF-8 nor Shift_JIS"):
        await import_csv("aed", str(undecodable), database=safety_db, partial=True)
    evacuation_file = _write(tmp_path, "evac.csv", CURRENT_EVACUATION, "utf-8")
    with pytest.raises(ImportFileError, match="no column of a aed dataset"):
        await import_csv("aed", evacuation_file, database=safety_db, partial=True)
    with pytest.raises(ImportFileError, match="unknown kind"):
        await import_csv("preschool", missing, database=safety_db, partial=True)
    with pytest.raises(ImportFileError, match="cannot read"):
        await import_csv("aed", str(tmp_path / "absent.csv"), database=safety_db, partial=True)
    async with safety_db.transaction() as session:
        assert (await session.execute(select(func.count()).select_from(EvacuationSpace))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(Aed))).scalar_one() == 0


async def test_duplicate_ids_and_extra_cells_are_reported_by_line(safety_db, tmp_path):
    text = CURRENT_AED.splitlines(keepends=True)
    content = text[0] + text[1] + text[1] + text[2].rstrip("\r\n") + ",extra\r\n"
    report = await import_csv("aed", _write(tmp_path, "dup.csv", content, "utf-8"), database=safety_db, partial=True)
    assert [e.line for e in report.errors] == [3, 4]
    assert report.errors[0].message.startswith("ID: duplicate 'AED1'") and "first at line 2" in report.errors[0].message
    assert report.inserted == 1
    assert "line 3:" in report.summary()


async def test_by_default_one_bad_row_means_nothing_is_imported(safety_db, tmp_path):
    path = _write(tmp_path, "evac.csv", CURRENT_EVACUATION, "utf-8-sig")
    report = await import_csv("evacuation_space", path, database=safety_db)
    assert [e.line for e in report.errors] == [4, 7]
    assert (report.stored, report.inserted, report.updated, report.unchanged) == (False, 0, 0, 0)
    assert "nothing imported" in report.summary() and "--partial" in report.summary()
    assert await _rows(safety_db, EvacuationSpace) == []
    # the header and the two good rows alone go in whole
    clean = "".join(CURRENT_EVACUATION.splitlines(keepends=True)[:3])
    report = await import_csv("evacuation_space", _write(tmp_path, "clean.csv", clean, "utf-8"), database=safety_db)
    assert (report.stored, report.inserted, report.errors) == (True, 2, [])


async def test_errors_name_the_files_own_headers(safety_db, tmp_path):
    # A legacy file calls the code column 都道府県コード又は市区町村コード and the ID column NO.
    lines = LEGACY_EVACUATION.splitlines(keepends=True)
    bad_code = lines[1].replace("28213,L01", "2821X,L05")
    content = lines[0] + lines[1] + bad_code + lines[1]
    report = await import_csv("evacuation_space", _write(tmp_path, "old.csv", content, "utf-8"), database=safety_db)
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (3, "都道府県コード又は市区町村コード"), (4, "NO")]
    assert "全国地方公共団体コード" not in report.summary()
