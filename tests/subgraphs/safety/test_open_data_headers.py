from __future__ import annotations

import pytest

from subgraphs.safety.open_data_headers import map_headers
from subgraphs.safety.open_data_rows import RowProblem, aed_fields, evacuation_space_fields

CURRENT_EVACUATION_HEADERS = [
    "全国地方公共団体コード", "ID", "地方公共団体名", "名称", "名称_カナ", "名称_英字", "所在地_連結表記",
    "所在地_都道府県", "所在地_市区町村", "所在地_町字", "所在地_番地以下", "建物名等(方書)", "緯度", "経度",
    "電話番号", "内線番号", "連絡先メールアドレス", "郵便番号", "災害種別_洪水", "災害種別_崖崩れ、土石流及び地滑り",
    "災害種別_高潮", "災害種別_地震", "災害種別_津波", "災害種別_大規模な火事", "災害種別_内水氾濫",
    "災害種別_火山現象", "指定避難所との重複", "想定収容人数", "対象となる町会・自治会", "URL", "備考",
]
LEGACY_EVACUATION_HEADERS = [
    "都道府県コード又は市区町村コード", "NO", "名称", "住所", "建物名等（方書）", "緯度", "経度", "洪水",
    "崖崩れ、土石流及び地滑り", "高潮", "地震", "津波", "大規模な火事", "内水氾濫", "火山現象", "想定収容人数",
]


def test_current_generation_maps_every_column() -> None:
    mapping = map_headers("evacuation_space", CURRENT_EVACUATION_HEADERS)
    assert mapping.missing == ()
    assert mapping.unknown == ()
    fields = list(mapping.field_by_index.values())
    assert fields[:4] == ["code", "local_id", "municipality_name", "name"]
    assert fields[6] == "address"
    assert "hazard_landslide" in fields and "also_shelter" in fields and "capacity" in fields


def test_legacy_generation_maps_to_the_same_fields() -> None:
    mapping = map_headers("evacuation_space", LEGACY_EVACUATION_HEADERS)
    assert mapping.missing == ()
    assert mapping.field_by_index[0] == "code"
    assert mapping.field_by_index[1] == "local_id"
    assert mapping.field_by_index[3] == "address"
    assert mapping.field_by_index[4] == "building"  # full-width brackets
    assert mapping.field_by_index[7] == "hazard_flood"


def test_missing_required_and_unknown_columns_are_reported() -> None:
    mapping = map_headers("aed", ["ID", "設置位置", "謎の列"])
    assert mapping.missing == ("code", "name")
    assert mapping.unknown == ("謎の列",)
    assert mapping.kind_specific == ("location_in_facility",)
    assert map_headers("aed", LEGACY_EVACUATION_HEADERS).kind_specific == ()


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        map_headers("preschool_in_safety", ["ID"])


def _evacuation_row(**overrides: str) -> dict[str, str]:
    row = {"code": "28210", "local_id": "0001", "name": "加古川河川敷緑地", "latitude": "34.75",
           "longitude": "134.84", "hazard_earthquake": "1", "hazard_flood": "", "capacity": "1,200"}
    row.update(overrides)
    return row


def test_row_values_are_typed_and_the_code_is_stored_in_six_digits() -> None:
    values = evacuation_space_fields(_evacuation_row())
    assert values["id"] == "282103:0001"
    assert values["municipality_code"] == "282103"
    assert values["municipality_name"] == "加古川市"  # filled from the known code
    assert values["hazard_earthquake"] is True and values["hazard_flood"] is False
    assert values["capacity"] == 1200
    assert values["latitude"] == pytest.approx(34.75)


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"code": "282104"}, "全国地方公共団体コード"),  # wrong check digit
        ({"code": "2821x"}, "全国地方公共団体コード"),
        ({"code": "2821034"}, "全国地方公共団体コード"),
        ({"local_id": " "}, "ID"),
        ({"name": ""}, "名称"),
        ({"latitude": "north"}, "緯度"),
        ({"longitude": "200"}, "経度"),
        ({"hazard_tsunami": "maybe"}, "津波"),
        ({"capacity": "-5"}, "想定収容人数"),
    ],
)
def test_bad_values_name_their_column(overrides: dict[str, str], column: str) -> None:
    with pytest.raises(RowProblem, match=column):
        evacuation_space_fields(_evacuation_row(**overrides))


def test_aed_times_and_pediatric_flag() -> None:
    base = {"code": "282103", "local_id": "A1", "name": "加古川市役所"}
    values = aed_fields({**base, "start_time": "8:30", "end_time": "１７:１５", "pediatric": "有"})
    assert (values["start_time"], values["end_time"], values["pediatric"]) == ("08:30", "17:15", True)
    assert aed_fields({**base, "pediatric": ""})["pediatric"] is None
    assert aed_fields({**base, "pediatric": "無"})["pediatric"] is False
    for bad in ({"start_time": "25:00"}, {"end_time": "noon"}, {"pediatric": "たぶん"}):
        with pytest.raises(RowProblem):
            aed_fields({**base, **bad})
