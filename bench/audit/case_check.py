"""Judge one audit case exactly as the audit's own test runner does.

The audit compares `{data, errors}`: `data` must be deep-equal (missing data counts as null), and
`errors` is compared only when the expected result states it as a boolean (then "the response has at
least one error" must match it). Error messages, paths and extensions are never compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CaseVerdict:
    passed: bool
    expected: dict[str, Any]
    received: dict[str, Any]
    reason: str = ""


def judge(expected_result: dict[str, Any], response: Any) -> CaseVerdict:
    """`expected_result` is the case's `expected`; `response` the gateway's decoded JSON body."""
    if not isinstance(response, dict):
        return CaseVerdict(False, _expected_view(expected_result), {"body": response}, "response is not a JSON object")
    expected = _expected_view(expected_result)
    errors_compared = isinstance(expected_result.get("errors"), bool)
    received = {
        "data": response.get("data"),
        "errors": _has_errors(response) if errors_compared else None,
    }
    if _deep_equal(received, expected):
        return CaseVerdict(True, expected, received)
    reasons = []
    if not _deep_equal(received["data"], expected["data"]):
        reasons.append("data differs")
    if received["errors"] != expected["errors"]:
        reasons.append("errors expected" if expected["errors"] else "unexpected errors")
    return CaseVerdict(False, expected, received, ", ".join(reasons))


def _expected_view(expected_result: dict[str, Any]) -> dict[str, Any]:
    errors = expected_result.get("errors")
    return {"data": expected_result.get("data"), "errors": errors if isinstance(errors, bool) else None}


def _has_errors(response: dict[str, Any]) -> bool:
    # The audit checks `errors?.length`: only a non-empty array counts.
    errors = response.get("errors")
    return isinstance(errors, list) and len(errors) > 0


def _deep_equal(left: Any, right: Any) -> bool:
    """Node's deepStrictEqual on decoded JSON: key order is ignored, true is not 1, and 1 equals 1.0
    (JavaScript has one number type, so the decoder's int/float split must not matter)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_deep_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_deep_equal(a, b) for a, b in zip(left, right))
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    return type(left) is type(right) and left == right
