"""How non-repeatable directives applied differently in several subgraphs merge their arguments.

`@requiresScopes`/`@policy` combine as a conjunction of their alternatives (all subgraphs' requirements
must hold), kept in disjunctive normal form; `@cost` keeps the highest weight; `@listSize` the largest size,
the union of slicing/sized fields, and requires one slicing argument only if every subgraph does.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import print_ast, value_from_ast_untyped

from gateway.composition.model import Applied

MERGEABLE = {"requiresScopes", "policy", "cost", "listSize"}


def dnf_conjunction(values: list[list[list[str]]]) -> list[list[str]]:
    """AND of several ORs-of-ANDs, simplified: no duplicate alternatives, none implied by a smaller one."""
    normalized: list[list[list[str]]] = []
    for value in values:
        alternatives = sorted((sorted(inner) for inner in (value or [[]])), key=json.dumps)
        if alternatives not in normalized:
            normalized.append(alternatives)
    if not normalized:
        return []
    result = normalized[0]
    for current in normalized[1:]:
        combined: list[list[str]] = []
        for left in result:
            for right in current:
                candidate = sorted(left + [e for e in right if e not in left])
                if candidate not in combined:
                    combined.append(candidate)
        result = _drop_subsumed(combined)
    return result


def _drop_subsumed(alternatives: list[list[str]]) -> list[list[str]]:
    kept: list[list[str]] = []
    for candidate in sorted(alternatives, key=len):
        if not any(set(k) <= set(candidate) for k in kept):
            kept.append(candidate)
    return kept


def _print(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, bool) else ("true" if value else "false")


def merge_arguments(name: str, applications: list[Applied]) -> list[tuple[str, str]]:
    """Merged (argument, printed value) pairs for one directive applied with differing arguments."""
    args = [{k: value_from_ast_untyped(v) for k, v in a.args.items()} for a in applications]
    if name in ("requiresScopes", "policy"):
        arg = "scopes" if name == "requiresScopes" else "policies"
        return [(arg, _print(dnf_conjunction([a.get(arg) or [] for a in args])))]
    if name == "cost":
        return [("weight", str(max(int(a.get("weight", 0)) for a in args)))]
    if name == "listSize":
        out: list[tuple[str, str]] = []
        sizes = [a["assumedSize"] for a in args if a.get("assumedSize") is not None]
        if sizes:
            out.append(("assumedSize", str(max(sizes))))
        for arg in ("slicingArguments", "sizedFields"):
            lists = [a[arg] for a in args if a.get(arg) is not None]
            if lists:
                merged: list[str] = []
                for values in lists:
                    merged += [v for v in values if v not in merged]
                out.append((arg, _print(merged)))
        flags = [a["requireOneSlicingArgument"] for a in args if a.get("requireOneSlicingArgument") is not None]
        if flags:
            out.append(("requireOneSlicingArgument", _print(all(flags))))
        return out
    return [(k, print_ast(v)) for k, v in applications[0].args.items()]
