"""auth/my_number.py: a My Number is refused by what it reads as, in every spelling (finding 3 of issue 10)."""

from __future__ import annotations

import pytest

from auth.card_serial import hash_serial
from auth.my_number import check_digit, my_number_reason, passes_check_digit

VALID = "123456789018"          # passes the check-digit rule (the example of the issue)
INVALID_CHECK = "123456789010"  # twelve digits, wrong check digit: refused as twelve digits all the same


@pytest.mark.parametrize("first_eleven, expected", [
    ("12345678901", 8),
    ("00000000000", 0),          # remainder 0 -> 0
    ("11111111111", 8),
    ("98765432109", 3),
])
def test_check_digit_rule(first_eleven, expected):
    # recomputed by hand: weights 2..7 then 2..6 from the right; 0 when the remainder is 0 or 1
    total = sum(int(d) * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(first_eleven), start=1))
    assert expected == (0 if total % 11 <= 1 else 11 - total % 11)
    assert check_digit(first_eleven) == expected
    assert passes_check_digit(first_eleven + str(expected))


@pytest.mark.parametrize("spelling", [
    # the five spellings linkCard accepted (issue 10, finding 3)
    "1234:5678:9018", "0x123456789018", "1234_5678_9018", "0123456789018", "12:34:56:78:90:18",
    # and more
    VALID, INVALID_CHECK, "1234 5678 9018", "1234-5678-9018", "1234.5678.9018", "1234/5678/9018",
    "１２３４５６７８９０１８",                 # full-width digits
    "１２３４－５６７８－９０１８",             # full-width digits and hyphen
    "1234ー5678ー9018",                         # katakana prolonged sound mark as a dash
    "1234　5678　9018",                         # ideographic space
    "0X1234_5678_9018", "0x1234:0x5678:0x9018", "00000123456789018", "  123456789018  ",
    "1,234,567,890,18", "(1234) 5678-9018", "1234\t5678\n9018",
    "番号 1234-5678-9018 です", "my number: 123456789018.",
    "9" + VALID + "7",                          # inside a longer run: the check digit gives it away
])
def test_my_number_spellings_are_refused(spelling):
    assert my_number_reason(spelling) is not None


@pytest.mark.parametrize("value", [
    "0A:1B:2C:3D:4E:5F:60:71",      # a certificate serial in hex
    "3fa1c2d4e5b60718",
    "12345678901",                  # eleven digits
    "079-123-4567",                 # a phone number (10 digits)
    "2026-04-01",
    "tag-kakogawa-0001",
    "LOT AB1234",
    "学習ノート 2026年4月1日",
    "",
    None,
])
def test_ordinary_values_pass(value):
    assert my_number_reason(value) is None


@pytest.mark.parametrize("serial", ["ab123456789012cd", "0a:1b:12:34:56:78:90:18:ff", "0x1f123456789018"])
def test_a_hex_serial_is_one_hex_number_not_a_decimal_reading(serial):
    assert my_number_reason(serial, serial=True) is None
    assert my_number_reason(serial) is not None       # as free text, the digit run is refused


@pytest.mark.parametrize("spelling", ["1234:5678:9018", "0x123456789018", "0123456789018", "１２３４５６７８９０１８"])
def test_an_all_digit_serial_is_read_like_any_value(spelling):
    assert my_number_reason(spelling, serial=True) is not None


def test_the_reasons_are_distinct():
    assert my_number_reason(INVALID_CHECK) == "twelve digits"
    assert my_number_reason("99" + VALID) == "check digit"     # 14 digits, a valid My Number inside


def test_hash_serial_refuses_a_my_number_even_as_an_int():
    for serial in ("1234:5678:9018", 123456789018):
        with pytest.raises(ValueError, match="My Number"):
            hash_serial(serial)
    assert len(hash_serial("0A:1B:2C:3D:4E:5F:60:71")) == 64
