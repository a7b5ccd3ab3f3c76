"""`import_csv("preschool", path)`: both header generations, UTF-8 and Shift_JIS, bad rows by line,
idempotent re-import, and nothing half-written — on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from subgraphs.childcare import importer
from subgraphs.childcare.importer import ImportFileError, import_csv
from subgraphs.childcare.models import ChildcareFacility

CURRENT_HEADER = ("全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,名称_英字,種別,所在地_連結表記,所在地_都道府県,"
                  "所在地_市区町村,所在地_町字,所在地_番地以下,建物名等(方書),緯度,経度,電話番号,内線番号,連絡先メールアドレス,"
                  "郵便番号,収容定員,受入年齢,利用可能曜日,開始時間,終了時間,一時預かりの有無,病児保育の有無,授乳室,"
                  "おむつ替えコーナー,URL,備考,画像")
CURRENT_ROWS = (
    "282014,P001,姫路市,みゆき保育園,ミユキホイクエン,Miyuki Nursery,保育所,兵庫県姫路市本町,兵庫県,姫路市,本町,,,"
    "34.8394,134.6939,079-000-0001,,,670-0012,120,0歳～5歳,月火水木金土,7:00,19:00,1,,1,1,,,",
    # line 3: bad check digit
    "282015,P002,姫路市,ほんまち児童館,ホンマチジドウカン,,児童館,兵庫県姫路市本町,兵庫県,姫路市,本町,,,34.84,134.69,,,,,,,,,,,,,,,,",
    # line 4: a quoted note over two physical lines
    "28201,P003,姫路市,ひろみね子育てひろば,ヒロミネコソダテヒロバ,,地域子育て支援拠点,兵庫県姫路市広峰,兵庫県,姫路市,広峰,,,"
    "34.85,134.68,,,,,,0歳～3歳,月水金,10:00,15:00,,,1,1,,\"予約制\n土曜は休み\",",
    # line 6: time out of range
    "282014,P004,姫路市,よるの保育室,ヨルノホイクシツ,,保育所,,,,,,,,,,,,,30,,,25:00,,,,,,,,",
    # line 7: latitude not a number
    "282014,P005,姫路市,いたずら園,イタズラエン,,保育所,,,,,,,北緯35,,,,,,,,,,,,,,,,,",
    # line 8: duplicate ID of line 2
    "282014,P001,姫路市,みゆき保育園（重複）,,,保育所,,,,,,,,,,,,,,,,,,,,,,,,",
)
LEGACY_HEADER = ("都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,種別,住所,方書,緯度,経度,電話番号,"
                 "内線番号,FAX番号,利用可能曜日,開始時間,終了時間,定員,受入年齢,一時預かり,病児保育,備考")
LEGACY_ROWS = (
    "282103,12,兵庫県,加古川市,かわまち保育所,カワマチホイクショ,保育所,兵庫県加古川市加古川町,２階,34.757,134.841,"
    "079-000-0002,,,月～土,07:30,18:30,\"1,200\",6か月～5歳,有,無,",
    "282103,13,兵庫県,加古川市,おのえ児童館,オノエジドウカン,児童館,兵庫県加古川市尾上町,,34.73,134.83,,,,火～日,9:00,17:00,,,,,",
    # line 4: ID empty
    "282103,,兵庫県,加古川市,名無し園,,保育所,,,,,,,,,,,,,,,",
    # line 5: flag neither yes nor no
    "282103,14,兵庫県,加古川市,ふしぎ園,,保育所,,,,,,,,,,,,,たぶん,,",
)


def write_csv(path: Path, header: str, rows: tuple[str, ...], encoding: str) -> Path:
    path.write_bytes(("\r\n".join((header, *rows)) + "\r\n").encode(encoding))
    return path


async def facilities(database) -> dict[str, ChildcareFacility]:
    async with database.sessions() as session:
        return {f.id: f for f in (await session.execute(select(ChildcareFacility))).scalars()}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
async def test_current_generation(tmp_path, childcare_empty_db, encoding):
    path = write_csv(tmp_path / "preschool.csv", CURRENT_HEADER, CURRENT_ROWS, encoding)
    report = await import_csv("preschool", path, database=childcare_empty_db, partial=True)
    assert report.header_generation == "current"
    assert report.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp932": "shift_jis"}[encoding]
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (6, 2, 0, 0)
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (3, "全国地方公共団体コード"), (6, "開始時間"), (7, "緯度"), (8, "ID")]
    assert report.errors[3].message == "ID: duplicate 'P001' (first at line 2)"
    assert report.ignored_columns == ("画像",)
    stored = await facilities(childcare_empty_db)
    assert set(stored) == {"282014:P001", "282014:P003"}
    miyuki = stored["282014:P001"]
    assert (miyuki.name, miyuki.kind, miyuki.capacity, miyuki.start_time, miyuki.end_time) == (
        "みゆき保育園", "保育所", 120, "07:00", "19:00", )
    assert (miyuki.temporary_care, miyuki.sick_child_care, miyuki.nursing_room, miyuki.diaper_station) == (
        True, None, True, True)
    assert (miyuki.latitude, miyuki.longitude, miyuki.address_town) == (34.8394, 134.6939, "本町")
    hiromine = stored["282014:P003"]   # the 5-digit code 28201 stored in its 6-digit form
    assert (hiromine.municipality_code, hiromine.note) == ("282014", "予約制\n土曜は休み")


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
async def test_legacy_generation(tmp_path, childcare_empty_db, encoding):
    path = write_csv(tmp_path / "old.csv", LEGACY_HEADER, LEGACY_ROWS, encoding)
    report = await import_csv("preschool", path, database=childcare_empty_db, partial=True)
    assert report.header_generation == "legacy"
    assert (report.rows, report.inserted) == (4, 2)
    assert [e.line for e in report.errors] == [4, 5]
    # named as this file names its columns (NO, not ID; 一時預かり, not 一時預かりの有無)
    assert report.errors[0].message == "NO: empty" and report.errors[1].message.startswith("一時預かり: ")
    stored = await facilities(childcare_empty_db)
    kawamachi = stored["282103:12"]
    assert (kawamachi.address, kawamachi.building, kawamachi.capacity, kawamachi.temporary_care,
            kawamachi.sick_child_care) == ("兵庫県加古川市加古川町", "２階", 1200, True, False)
    assert stored["282103:13"].start_time == "09:00"
    assert set(report.ignored_columns) == {"都道府県名", "FAX番号"}


async def test_reimport_is_idempotent_and_updates_changes(tmp_path, childcare_empty_db):
    path = write_csv(tmp_path / "p.csv", CURRENT_HEADER, CURRENT_ROWS, "utf-8")
    await import_csv("preschool", path, database=childcare_empty_db, partial=True)
    first = await facilities(childcare_empty_db)
    again = await import_csv("preschool", path, database=childcare_empty_db, partial=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert {k: v.model_dump() for k, v in (await facilities(childcare_empty_db)).items()} == \
        {k: v.model_dump() for k, v in first.items()}
    changed = (CURRENT_ROWS[0].replace(",120,", ",130,"),)
    report = await import_csv("preschool", write_csv(tmp_path / "p2.csv", CURRENT_HEADER, changed, "utf-8"),
                              database=childcare_empty_db, partial=True)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    assert (await facilities(childcare_empty_db))["282014:P001"].capacity == 130


async def test_a_failure_while_storing_writes_nothing(tmp_path, childcare_empty_db, monkeypatch):
    original = importer.store_rows

    async def store_then_fail(session, rows, report):  # noqa: ANN001
        await original(session, rows, report)   # every row is flushed inside the transaction…
        raise RuntimeError("disk full")          # …then the import fails

    monkeypatch.setattr(importer, "store_rows", store_then_fail)
    path = write_csv(tmp_path / "p.csv", CURRENT_HEADER, CURRENT_ROWS, "utf-8")
    with pytest.raises(RuntimeError):
        await import_csv("preschool", path, database=childcare_empty_db, partial=True)
    async with childcare_empty_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChildcareFacility)) == 0


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    ("名称,種別\nみゆき保育園,保育所\n".encode(), "required columns missing"),
    (b"\xff\xfe\x00\x00garbage\x81", "neither UTF-8 nor Shift_JIS"),
])
async def test_unusable_files_are_refused_whole(tmp_path, childcare_empty_db, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        await import_csv("preschool", path, database=childcare_empty_db, partial=True)
    assert await facilities(childcare_empty_db) == {}


async def test_unknown_kind_and_missing_file(tmp_path, childcare_empty_db):
    with pytest.raises(ImportFileError, match="unknown kind"):
        await import_csv("aed", tmp_path / "x.csv", database=childcare_empty_db, partial=True)
    with pytest.raises(ImportFileError, match="cannot read"):
        await import_csv("preschool", tmp_path / "missing.csv", database=childcare_empty_db, partial=True)


async def test_imported_facilities_are_public(tmp_path, childcare_empty_db, gateway_jwks):
    import httpx

    from subgraphs.childcare.app import create_app

    await import_csv("preschool", write_csv(tmp_path / "p.csv", CURRENT_HEADER, CURRENT_ROWS, "utf-8"),
                     database=childcare_empty_db, partial=True)
    app = create_app(database_url=childcare_empty_db.url, keys=gateway_jwks)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c") as client:
        listing = (await client.post("/graphql", json={"query": '{ childcareFacilities(municipalityCode: "28201") '
                                                                '{ id name kind capacity nursingRoom } }'})).json()
        one = (await client.post("/graphql", json={"query": '{ childcareFacility(id: "28201:P003") { name note } }'})).json()
        bad = (await client.post("/graphql", json={"query": '{ childcareFacility(id: "282015:P003") { name } }'})).json()
    await app.state.database.dispose()
    assert listing["data"]["childcareFacilities"] == [
        {"id": "282014:P001", "name": "みゆき保育園", "kind": "保育所", "capacity": 120, "nursingRoom": True},
        {"id": "282014:P003", "name": "ひろみね子育てひろば", "kind": "地域子育て支援拠点", "capacity": None, "nursingRoom": True}]
    assert one["data"]["childcareFacility"] == {"name": "ひろみね子育てひろば", "note": "予約制\n土曜は休み"}
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
