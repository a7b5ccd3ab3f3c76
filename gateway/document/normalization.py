"""Normalization of a validated operation's selection: one small named pass per transformation.

Each pass takes a selection set and returns an equivalent one, rebuilding only the nodes it
changes (untouched subtrees are shared, so a repeated fragment costs one node per use). Run once
per document and operation (the result is cached with the validated document), never per request.

1. `inline_fragment_spreads`: `...F @d` becomes `... on T @d { F's selections }`, so no later stage
   needs the fragment map (each fragment is inlined once and its node reused at every spread).
2. `apply_literal_conditions`: a selection under `@skip(if: true)` / `@include(if: false)` is
   removed; `@skip(if: false)` / `@include(if: true)` are dropped as the no-ops they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from graphql.language import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)

from gateway.document.conditions import CONDITION_DIRECTIVES, literal_exclusion


@dataclass
class NormalizationContext:
    fragments: Mapping[str, FragmentDefinitionNode]
    # per pass: id(input selection set) -> its output, so shared subtrees are walked once
    memo: dict[int, SelectionSetNode] = field(default_factory=dict)


NormalizationPass = Callable[[SelectionSetNode, NormalizationContext], SelectionSetNode]


def _rebuild(
    selection_set: SelectionSetNode,
    context: NormalizationContext,
    one: Callable[[SelectionNode], SelectionNode | None],
) -> SelectionSetNode:
    """Apply `one` to each selection (None drops it); the same node back when nothing changed."""
    key = id(selection_set)
    done = context.memo.get(key)
    if done is not None:
        return done
    out: list[SelectionNode] = []
    changed = False
    for selection in selection_set.selections:
        result = one(selection)
        if result is not selection:
            changed = True
        if result is not None:
            out.append(result)
    rebuilt = replace(selection_set, selections=tuple(out)) if changed else selection_set
    context.memo[key] = rebuilt
    return rebuilt


def _with_children(
    selection: SelectionNode, context: NormalizationContext, again: NormalizationPass
) -> SelectionNode:
    """The selection with its sub-selection normalized by `again` (a field or inline fragment)."""
    if isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set is not None:
        inner = again(selection.selection_set, context)
        if inner is not selection.selection_set:
            return replace(selection, selection_set=inner)
    return selection


def inline_fragment_spreads(selection_set: SelectionSetNode, context: NormalizationContext) -> SelectionSetNode:
    inlined: dict[str, SelectionSetNode] = {}

    def fragment_selection(name: str) -> SelectionSetNode | None:
        found = inlined.get(name)
        if found is None:
            definition = context.fragments.get(name)
            if definition is None:
                return None  # validation refuses unknown fragments; nothing to inline
            found = inlined[name] = walk(definition.selection_set)
        return found

    def one(selection: SelectionNode) -> SelectionNode | None:
        if isinstance(selection, FragmentSpreadNode):
            definition = context.fragments.get(selection.name.value)
            inner = fragment_selection(selection.name.value)
            if definition is None or inner is None:
                return None
            return InlineFragmentNode(
                type_condition=definition.type_condition, directives=selection.directives, selection_set=inner
            )
        return _with_children(selection, context, lambda s, _c: walk(s))

    def walk(node: SelectionSetNode) -> SelectionSetNode:
        return _rebuild(node, context, one)

    return walk(selection_set)


def apply_literal_conditions(selection_set: SelectionSetNode, context: NormalizationContext) -> SelectionSetNode:
    def one(selection: SelectionNode) -> SelectionNode | None:
        literal = literal_exclusion(selection)
        if literal:
            return None
        if literal is False:
            kept = tuple(
                d for d in selection.directives or ()
                if d.name.value not in CONDITION_DIRECTIVES or _is_variable_condition(d)
            )
            selection = replace(selection, directives=kept or None)
        return _with_children(selection, context, apply_literal_conditions)

    return _rebuild(selection_set, context, one)


def _is_variable_condition(directive: DirectiveNode) -> bool:
    return any(isinstance(a.value, VariableNode) for a in directive.arguments or ())


# In order; each pass gets a fresh memo (ids are only meaningful within one pass).
PASSES: Sequence[NormalizationPass] = (inline_fragment_spreads, apply_literal_conditions)


def normalize_selection(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    passes: Sequence[NormalizationPass] = PASSES,
) -> SelectionSetNode:
    for step in passes:
        selection_set = step(selection_set, NormalizationContext(fragments))
    return selection_set
