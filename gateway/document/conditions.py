"""@skip/@include on a selection: the one place they are read.

The planner reads them as plan conditions (`condition_terms`), the projector evaluates them against
a request's coerced variables (`included`). Literal `if:` values never reach either: normalization
(`gateway.document.normalization`) already removed what they exclude and dropped the no-op ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import BooleanValueNode, VariableNode
from graphql.language import DirectiveNode, SelectionNode

# (variable, the value it must have for the selection to be included)
ConditionTerm = tuple[str, bool]
Selection = SelectionNode  # a field, inline fragment or fragment spread

CONDITION_DIRECTIVES = ("skip", "include")


def _if_argument(directive: DirectiveNode) -> Any:
    for argument in directive.arguments or ():
        if argument.name.value == "if":
            return argument.value
    return None


def literal_exclusion(node: Selection) -> bool | None:
    """True if a literal `@skip(if: true)` / `@include(if: false)` excludes the selection, False if
    it has literal conditions that change nothing, None if it has no literal condition."""
    found: bool | None = None
    for directive in node.directives or ():
        name = directive.name.value
        if name not in CONDITION_DIRECTIVES:
            continue
        value = _if_argument(directive)
        if isinstance(value, BooleanValueNode):
            if value.value != (name == "include"):
                return True
            found = False
    return found


def condition_terms(node: Selection) -> frozenset[ConditionTerm]:
    """The variable terms of a selection: `@include(if: $x)` gives ("x", True), `@skip(if: $x)` ("x", False)."""
    directives = node.directives
    if not directives:
        return frozenset()
    terms: set[ConditionTerm] = set()
    for directive in directives:
        name = directive.name.value
        if name not in CONDITION_DIRECTIVES:
            continue
        value = _if_argument(directive)
        if isinstance(value, VariableNode):
            terms.add((value.name.value, name == "include"))
    return frozenset(terms)


def included(node: Selection, variables: Mapping[str, Any]) -> bool:
    """Whether the selection is included for these (coerced) variables."""
    if not node.directives:
        return True
    for variable, wanted in condition_terms(node):
        if bool(variables.get(variable)) != wanted:
            return False
    return True
