"""Compare two gateways' answers to one operation, and name the difference so that alike ones group.

Two answers agree when their `data` are deep-equal (JSON equality: key order not compared) and they
agree on whether there are `errors`, and, when both have errors, on the set of error paths. A
difference is named by `signature`: its kind, where in `data` the first difference sits (list indices
and response keys of generated aliases folded), and each side's first error message with names and
numbers folded. Operations with one signature are one candidate class; which of the two gateways is
wrong is then judged by hand (README.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # the parsed JSON body, or the raw text when it was not JSON

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        if not isinstance(self.body, dict):
            return [{"message": f"HTTP {self.status}: not JSON: {str(self.body)[:200]}"}]
        return errors if isinstance(errors, list) else []

    @property
    def error_paths(self) -> frozenset[tuple[Any, ...]]:
        return frozenset(tuple(e.get("path") or ()) for e in self.errors if isinstance(e, dict))

    def first_message(self) -> str:
        for error in self.errors:
            if isinstance(error, dict):
                return str(error.get("message", ""))
        return ""


def parse_answer(status: int, raw: bytes) -> Answer:
    try:
        return Answer(status, json.loads(raw))
    except ValueError:
        return Answer(status, raw.decode(errors="replace"))


def _fold_message(message: str) -> str:
    message = re.sub(r'"[^"]*"', '"…"', message)
    message = re.sub(r"\b[A-Z][A-Za-z0-9_]*\.[A-Za-z0-9_]+\b", "T.f", message)
    message = re.sub(r"\d+", "N", message)
    return message[:120]


def _first_data_difference(left: Any, right: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            if key not in left or key not in right:
                return (*path, key, "<missing on one side>")
            found = _first_data_difference(left[key], right[key], (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return (*path, "<list length>")
        for item_left, item_right in zip(left, right):
            found = _first_data_difference(item_left, item_right, (*path, "[]"))
            if found is not None:
                return found
        return None
    if left != right:
        kind = "null vs value" if left is None or right is None else "values differ"
        return (*path, f"<{kind}>")
    return None


@dataclass(frozen=True)
class Comparison:
    agree: bool
    kind: str                 # agree | data | errors-kyodo-only | errors-reference-only | error-paths
    data_path: tuple[str, ...] | None
    kyodo_message: str
    reference_message: str

    @property
    def signature(self) -> str:
        where = "/".join(_fold_key(k) for k in self.data_path) if self.data_path else "-"
        return f"{self.kind} | at {where} | kyodo: {_fold_message(self.kyodo_message)} | " \
               f"reference: {_fold_message(self.reference_message)}"


def _fold_key(key: str) -> str:
    return re.sub(r"^(a|t)\d+$", r"\1N", key)  # the generator's own aliases (a1, t2) fold to one name


def compare(kyodo: Answer, reference: Answer) -> Comparison:
    data_path = _first_data_difference(kyodo.data, reference.data)
    kyodo_errors, reference_errors = bool(kyodo.errors), bool(reference.errors)
    kyodo_message = kyodo.first_message()
    reference_message = reference.first_message()
    if data_path is not None:
        kind = "data"
    elif kyodo_errors and not reference_errors:
        kind = "errors-kyodo-only"
    elif reference_errors and not kyodo_errors:
        kind = "errors-reference-only"
    elif kyodo_errors and kyodo.error_paths != reference.error_paths:
        kind = "error-paths"
    else:
        return Comparison(True, "agree", None, kyodo_message, reference_message)
    return Comparison(False, kind, data_path, kyodo_message, reference_message)
