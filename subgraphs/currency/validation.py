"""Checks on client input, before anything is read or written. Each failure is a BAD_USER_INPUT error
naming the field, so a bad request never reaches the ledger."""

from __future__ import annotations

import re
from datetime import date, timedelta

from subgraphs.common.errors import BadUserInput
from subgraphs.common.municipality import InvalidMunicipalityCode, normalize_code
from subgraphs.currency.rules import ActivityRule, EarningRules

_RESIDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_LOCAL_ID = re.compile(r"^[^\s:]{1,72}$")
_REFERENCE = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")


def resident_id(value: str, field: str = "residentId") -> str:
    if not isinstance(value, str) or not _RESIDENT_ID.match(value):
        raise BadUserInput(f"{field}: not a resident id", field=field)
    return value


def idempotency_key(value: str) -> str:
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.match(value):
        raise BadUserInput("idempotencyKey: 1–128 characters of A–Z a–z 0–9 _ . : -", field="idempotencyKey")
    return value


def facility_id(value: str, field: str = "merchantId") -> str:
    """"{code}:{localId}" with a valid municipality code (5- or 6-digit form); returns the 6-digit form."""
    code, sep, local = (value or "").partition(":")
    if not sep or not _LOCAL_ID.match(local):
        raise BadUserInput(f"{field}: expected '{{municipality code}}:{{local id}}'", field=field)
    try:
        return f"{normalize_code(code)}:{local}"
    except InvalidMunicipalityCode as exc:
        raise BadUserInput(f"{field}: {exc}", field=field) from None


def amount(value: int, rules: EarningRules) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= rules.max_spend:
        raise BadUserInput(f"amount: a whole number of points from 1 to {rules.max_spend}", field="amount")
    return value


def activity(code: str, rules: EarningRules) -> ActivityRule:
    rule = rules.activity(code)
    if rule is None:
        raise BadUserInput(f"activity: unknown activity {code!r}; one of {', '.join(sorted(rules.activities))}",
                           field="activity")
    return rule


def occurred_on(value: date | None, today: date, rules: EarningRules) -> date:
    if value is None:
        return today
    if value > today:
        raise BadUserInput("occurredOn: the activity cannot be in the future", field="occurredOn")
    if value < today - timedelta(days=rules.backdate_days):
        raise BadUserInput(f"occurredOn: older than {rules.backdate_days} days", field="occurredOn")
    return value


def reference(value: str | None) -> str | None:
    if value is None:
        return None
    if not _REFERENCE.match(value):
        raise BadUserInput("reference: 1–128 printable characters", field="reference")
    return value
