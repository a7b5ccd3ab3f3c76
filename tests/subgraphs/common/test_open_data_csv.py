"""The shared open-data CSV handling: encodings, both header generations, typed common columns."""

from __future__ import annotations

import pytest

from subgraphs.common.open_data_csv import (
    COMMON_FACILITY_COLUMNS, ImportFileError, ImportReport, RowProblem, decode, facility_values, map_headers,
    parse_count, parse_flag, parse_rows, parse_time,
)


@pytest.mark.parametrize(("data", "encoding"), [
    ("名称\n".encode("utf-8-sig"), "utf-8-sig"), ("名称\n".encode(), "utf-8"), ("名称\n".encode("cp932"), "shift_jis")])
def test_encodings(data: bytes, encoding: str) -> None:
    assert decode(data) == ("名称\n", encoding)


def test_undecodable_file() -> None:
    with pytest.raises(ImportFileError, match="neither UTF-8 nor Shift_JIS"):
        decode(b"\xff\xfe\x00\x00garbage\x81")


def test_header_generations_duplicates_and_unknown_columns() -> None:
    current = map_headers(COMMON_FACILITY_COLUMNS, ["全国地方公共団体コード", "ID", "名称", "所在地_連結表記", "画像"])
    assert (current.generation, current.missing, current.ignored) == ("current", (), ("画像",))
    legacy = map_headers(COMMON_FACILITY_COLUMNS, ["都道府県コード又は市区町村コード", "NO", "施設名", "住所", "名称"])
    assert legacy.generation == "legacy"
    assert list(legacy.field_by_index.values()) == ["code", "local_id", "name", "address"]
    assert (legacy.duplicated, legacy.ignored) == (("名称",), ("名称",))   # a second 名称 column is not loaded
    assert map_headers(COMMON_FACILITY_COLUMNS, ["ＩＤ", "名称"]).missing == ("code",)   # NFKC: full-width ID


def test_common_values_and_parsers() -> None:
    values = facility_values({"code": "28210", "local_id": " T1 ", "name": "寺家町公園", "latitude": "３４.７５"})
    assert (values["id"], values["municipality_name"], values["latitude"]) == ("282103:T1", "加古川市", 34.75)
    assert (parse_flag("x", ""), parse_flag("x", "", empty_is_none=False), parse_flag("x", "有")) == (None, False, True)
    assert (parse_count("定員", "1,200人"), parse_count("定員", "60名")) == (1200, 60)
    assert (parse_time("開始時間", "7:00:00"), parse_time("終了時間", "24:00")) == ("07:00", "24:00")
    for bad in (lambda: parse_flag("授乳室", "たぶん"), lambda: parse_time("開始時間", "24:30"),
                lambda: facility_values({"code": "282104", "local_id": "1", "name": "n"})):
        with pytest.raises(RowProblem):
            bad()


def test_rows_report_bad_lines_and_duplicates() -> None:
    text = ("全国地方公共団体コード,ID,名称\n282103,A,一\n282103,B,\n\n282103,A,二\n"
            '282103,C,"三\n行"\n282103,D,四,余り\n')
    report = ImportReport(kind="test", path="-")
    rows = parse_rows(text, report, lambda h: map_headers(COMMON_FACILITY_COLUMNS, h), facility_values)
    assert [r["id"] for r in rows] == ["282103:A", "282103:C"]
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (3, "名称"), (5, "ID"), (8, "4 cells but the header has 3 columns")]
    assert report.rows == 5
