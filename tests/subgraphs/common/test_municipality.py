from __future__ import annotations

import pytest

from subgraphs.common.municipality import (
    KAKOGAWA_BASIN, KASAI, MUNICIPALITIES, InvalidMunicipalityCode, check_digit, is_valid_code, municipality,
    normalize_code,
)


@pytest.mark.parametrize("five, six", [("28201", "282014"), ("28210", "282103"), ("28220", "282201"),
                                       ("28222", "282227"), ("28000", "280003"), ("13101", "131016")])
def test_five_digit_form_gets_its_check_digit(five, six):
    assert normalize_code(five) == six
    assert normalize_code(six) == six


def test_leading_zero_dropped_by_a_csv_is_restored():
    # 北海道札幌市 011002: CSVs that parsed it as a number show 1100 (5-digit form 01100).
    assert normalize_code("1100") == "011002"
    assert normalize_code(28201) == "282014"


@pytest.mark.parametrize("bad", ["282015", "28201x", "282", "", "2820145", "99999", "482014", "２８２０１"])
def test_invalid_codes_are_refused(bad):
    with pytest.raises(InvalidMunicipalityCode):
        normalize_code(bad)
    assert not is_valid_code(bad)


def test_every_known_code_carries_a_valid_check_digit():
    for code, known in MUNICIPALITIES.items():
        assert int(code[5]) == check_digit(code[:5]), known.name
        assert known.prefecture == "兵庫県"


def test_basin_is_five_cities_and_one_town_without_kasai():
    assert len(KAKOGAWA_BASIN) == 6
    assert KASAI not in KAKOGAWA_BASIN
    assert sorted(municipality(c).name for c in KAKOGAWA_BASIN) == sorted(
        ["加古川市", "三田市", "西脇市", "小野市", "加東市", "播磨町"])


def test_unknown_but_valid_code_is_none():
    assert municipality("13101") is None
