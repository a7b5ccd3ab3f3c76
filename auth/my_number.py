"""Recognise a My Number (個人番号) by what it means, not by how it is spelt.

番号法 limits the My Number to social security, tax and disaster work; kyodo never accepts or stores one.
A filter that looks for "12 ASCII digits" is bypassed by `1234:5678:9018`, `0x123456789018`,
`１２３４５６７８９０１８` or `0123456789018`, so a value is first read the way a person would read it:

1. Unicode NFKC (full-width digits and separators become ASCII);
2. `0x`/`0X` prefixes dropped (a hex spelling of the same digits);
3. every separator of any kind between digits ignored (anything that is not a letter or digit, and the
   long-vowel mark ー typed as a dash);
4. leading zeros ignored.

Two independent refusals follow: a digit run that reads as exactly 12 digits, and any 12 consecutive digits
(inside a longer run too) that pass the My Number check-digit rule (個人番号の検査用数字, 総務省令第85号 第5条).
"""

from __future__ import annotations

import re
import unicodedata

MY_NUMBER_LENGTH = 12
_HEX_PREFIX = re.compile(r"(?<![0-9a-z])0x", re.IGNORECASE)
# A run of digits with any non-alphanumeric separators between them (":", "_", "-", "ー", ".", spaces …).
_DIGIT_RUN = re.compile(r"[0-9](?:[\W_]*[0-9])*")
_NOT_DIGIT = re.compile(r"[^0-9]")
# Letters (category Lm) people type as dashes between digit groups in Japanese text.
_DASH_LETTERS = str.maketrans({"ー": "-", "ｰ": "-", "〜": "-"})


def check_digit(first_eleven: str) -> int:
    """The 12th digit of a My Number whose first 11 digits are given.

    P_n is the n-th of the 11 digits counted from the right; Q_n = n + 1 for n ≤ 6, n − 5 for n ≥ 7;
    with r = Σ P_n·Q_n mod 11, the check digit is 0 when r ≤ 1, else 11 − r.
    """
    if len(first_eleven) != MY_NUMBER_LENGTH - 1 or not first_eleven.isdigit():
        raise ValueError("eleven digits expected")
    total = 0
    for n, digit in enumerate(reversed(first_eleven), start=1):
        total += int(digit) * (n + 1 if n <= 6 else n - 5)
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def passes_check_digit(twelve: str) -> bool:
    return (len(twelve) == MY_NUMBER_LENGTH and twelve.isdigit()
            and check_digit(twelve[:-1]) == int(twelve[-1]))


def digit_runs(value: str) -> list[str]:
    """Every run of digits in `value` as a person reads it (NFKC, 0x prefixes and separators dropped)."""
    text = _HEX_PREFIX.sub("", unicodedata.normalize("NFKC", value).translate(_DASH_LETTERS))
    return [_NOT_DIGIT.sub("", run) for run in _DIGIT_RUN.findall(text)]


def _reads_as_hex(value: str) -> bool:
    """A serial with hex letters in it is a hex number: its digit runs are not decimal numbers."""
    text = _HEX_PREFIX.sub("", unicodedata.normalize("NFKC", value).translate(_DASH_LETTERS))
    compact = re.sub(r"[\W_]", "", text)
    return bool(compact) and re.fullmatch(r"[0-9a-fA-F]+", compact) is not None and not compact.isdigit()


def my_number_reason(value: str | None, *, serial: bool = False) -> str | None:
    """Why `value` may hold a My Number ("twelve digits" / "check digit"), or None when it cannot.

    `serial=True` for a certificate serial: a hex serial such as `ab123456789012cd` is one hex number, and the
    digits inside it are not read as a decimal number (otherwise about one random card in 500 would be refused).
    A serial spelt with digits only is read like any other value.
    """
    if not value:
        return None
    if serial and _reads_as_hex(str(value)):
        return None
    for run in digit_runs(str(value)):
        if MY_NUMBER_LENGTH in (len(run), len(run.lstrip("0"))):
            return "twelve digits"
        for start in range(0, len(run) - MY_NUMBER_LENGTH + 1):
            if passes_check_digit(run[start:start + MY_NUMBER_LENGTH]):
                return "check digit"
    return None


def looks_like_my_number(value: str | None, *, serial: bool = False) -> bool:
    return my_number_reason(value, serial=serial) is not None
