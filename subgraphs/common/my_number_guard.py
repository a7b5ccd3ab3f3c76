"""Refuse a My Number in any free-text or serial field before it is stored (番号法; auth/my_number.py reads it).

The error names the field but never echoes the value, so the number does not travel on into logs either.
"""

from __future__ import annotations

from auth.my_number import my_number_reason
from subgraphs.common.errors import BadUserInput

REFUSAL = "this looks like a My Number ({reason}); this system never accepts or stores one"


def refuse_my_number(value: str | None, field: str, *, serial: bool = False) -> str | None:
    """`value` unchanged when it cannot hold a My Number; BAD_USER_INPUT (reason MY_NUMBER_REFUSED) otherwise.
    `serial=True` for certificate serials (hex numbers, see auth.my_number.my_number_reason)."""
    reason = my_number_reason(value, serial=serial)
    if reason is not None:
        raise BadUserInput(REFUSAL.format(reason=reason), field=field, reason="MY_NUMBER_REFUSED")
    return value
