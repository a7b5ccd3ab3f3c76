"""全国地方公共団体コード: normalisation, check digit, and the municipalities kyodo knows by name.

Codes are stored in their 6-digit form (prefecture 2 + municipality 3 + check digit). Published CSVs
often carry the 5-digit form or drop the leading zero, so both are accepted on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass

_WEIGHTS = (6, 5, 4, 3, 2)


class InvalidMunicipalityCode(ValueError):
    """The text is not a well-formed municipality code (wrong length, non-digits or bad check digit)."""


def check_digit(five_digits: str) -> int:
    """cd = (11 - Σ dᵢwᵢ mod 11) mod 10 with weights 6,5,4,3,2."""
    if len(five_digits) != 5 or not five_digits.isdigit():
        raise InvalidMunicipalityCode(f"expected 5 digits, got {five_digits!r}")
    total = sum(int(d) * w for d, w in zip(five_digits, _WEIGHTS))
    return (11 - total % 11) % 10


def normalize_code(value: str | int) -> str:
    """Return the 6-digit code for a 5- or 6-digit code (leading zero optional); raise if invalid.

    A 4- or 5-character value without its leading zero is padded first. A 5-digit value is read as the
    5-digit form (no check digit); a 6-digit value must carry a correct check digit.
    """
    text = str(value).strip()
    if not text.isdigit() or not text.isascii():
        raise InvalidMunicipalityCode(f"municipality code must be digits, got {value!r}")
    if len(text) == 4:  # 5-digit form that lost its leading zero (prefectures 01-09)
        text = "0" + text
    if len(text) == 5:
        prefecture = int(text[:2])
        if not 1 <= prefecture <= 47:
            raise InvalidMunicipalityCode(f"unknown prefecture {text[:2]} in {value!r}")
        return text + str(check_digit(text))
    if len(text) == 6:
        prefecture = int(text[:2])
        if not 1 <= prefecture <= 47:
            raise InvalidMunicipalityCode(f"unknown prefecture {text[:2]} in {value!r}")
        if int(text[5]) != check_digit(text[:5]):
            raise InvalidMunicipalityCode(f"check digit of {value!r} is wrong (expected {check_digit(text[:5])})")
        return text
    raise InvalidMunicipalityCode(f"municipality code must have 5 or 6 digits, got {value!r}")


def is_valid_code(value: str | int) -> bool:
    try:
        normalize_code(value)
    except InvalidMunicipalityCode:
        return False
    return True


@dataclass(frozen=True)
class Municipality:
    code: str        # 6 digits
    name: str
    name_kana: str   # katakana, as in the open-data 名称_カナ column
    prefecture: str


HYOGO = "兵庫県"

# Municipalities the platforms deal with (domain.md §1). Prefecture 兵庫県 itself is 280003.
MUNICIPALITIES: dict[str, Municipality] = {
    m.code: m
    for m in (
        Municipality("280003", "兵庫県", "ヒョウゴケン", HYOGO),
        Municipality("282014", "姫路市", "ヒメジシ", HYOGO),
        Municipality("282103", "加古川市", "カコガワシ", HYOGO),
        Municipality("282201", "加西市", "カサイシ", HYOGO),
        Municipality("282227", "養父市", "ヤブシ", HYOGO),
        Municipality("282197", "三田市", "サンダシ", HYOGO),
        Municipality("282138", "西脇市", "ニシワキシ", HYOGO),
        Municipality("282189", "小野市", "オノシ", HYOGO),
        Municipality("282286", "加東市", "カトウシ", HYOGO),
        Municipality("283827", "播磨町", "ハリマチョウ", HYOGO),
        Municipality("282154", "三木市", "ミキシ", HYOGO),
        Municipality("282162", "高砂市", "タカサゴシ", HYOGO),
        Municipality("283819", "稲美町", "イナミチョウ", HYOGO),
        Municipality("283657", "多可町", "タカチョウ", HYOGO),
    )
}

HIMEJI, KAKOGAWA, KASAI, YABU = "282014", "282103", "282201", "282227"
SANDA, NISHIWAKI, ONO, KATO, HARIMA = "282197", "282138", "282189", "282286", "283827"
MIKI, TAKASAGO, INAMI, TAKA = "282154", "282162", "283819", "283657"

# The Kakogawa basin flood-sensor group ("5市1町"); 加西市 is not in it.
KAKOGAWA_BASIN: tuple[str, ...] = (KAKOGAWA, SANDA, NISHIWAKI, ONO, KATO, HARIMA)

# Platform -> home municipality (共同利用: others join these).
PLATFORM_HOME: dict[str, str] = {
    "childcare": HIMEJI,
    "safety": KAKOGAWA,
    "currency": KASAI,
    "identity": YABU,
}
PLATFORMS: tuple[str, ...] = tuple(PLATFORM_HOME)


def municipality(code: str | int) -> Municipality | None:
    """The known municipality for a code in any accepted form; None if valid but unknown (raises if invalid)."""
    return MUNICIPALITIES.get(normalize_code(code))
