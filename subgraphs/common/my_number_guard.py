"""Refuse a My Number in any free-text or serial field before it is stored (番号法; auth/my_number.py reads it).

The error names the field but never echoes the value, so the number does not travel on into logs either.
"""

from __future__ import annotations

from auth.my_number import my_number_reason
from subgraphs.common.errors import BadUserInput

REFUSAL = "this looks like a My Number ({reason}); this system never accepts or stores one"


def refuse_my_number(value: str | None, field: str) -> str | None:
    """`value` unchanged when it cannot hold a My Number; BAD_USER_INPUT (code MY_NUMBER_REFUSED) otherwise."""
    reason = my_number_reason(value)
    if reason is not None:
        raise BadUserInput(REFUSAL.format(reason=reason), field=field, reason="MY_NUMBER_REFUSED")
    return value
