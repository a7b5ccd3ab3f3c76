"""@skip/@include on a selection, read as plan conditions."""

from __future__ import annotations

from graphql import BooleanValueNode, VariableNode

# (variable, the value it must have for the selection to be included)
ConditionTerm = tuple[str, bool]


def condition_terms(node) -> tuple[bool, frozenset[ConditionTerm]]:
    """(always excluded, variable terms) of a field, inline fragment or fragment spread.

    `@include(if: $x)` gives ("x", True), `@skip(if: $x)` gives ("x", False); a literal `@skip(if: true)`
    or `@include(if: false)` excludes the selection outright, the other literals change nothing.
    """
    terms: set[ConditionTerm] = set()
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        arg = next((a for a in directive.arguments or () if a.name.value == "if"), None)
        if arg is None:
            continue
        wanted = name == "include"
        if isinstance(arg.value, BooleanValueNode):
            if arg.value.value != wanted:
                return True, frozenset()
        elif isinstance(arg.value, VariableNode):
            terms.add((arg.value.name.value, wanted))
    return False, frozenset(terms)
