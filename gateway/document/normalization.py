"""Normalization of a validated operation's selection: one small named pass per transformation.

Each pass takes a selection set and returns an equivalent one, rebuilding only the nodes it
changes (untouched subtrees are shared, so a repeated fragment costs one node per use). Run once
per document and operation (the result is cached with the validated document), never per request.

1. `inline_fragment_spreads`: `...F @d` becomes `... on T @d { F's selections }`, so no later stage
   needs the fragment map (each fragment is inlined once and its node reused at every spread).
2. `apply_literal_conditions`: a selection under `@skip(if: true)` / `@include(if: false)` is
   removed; `@skip(if: false)` / `@include(if: true)` are dropped as the no-ops they are.
3. `merge_same_response_keys`: fields of one selection set with the same response key (and the same
   directives) become one field with their sub-selections together, as GraphQL's field collection
   executes them: once. Validation already guaranteed they have the same name and arguments. Without
   it a mutation selected twice under one key would run twice.
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
    print_ast,
)

from gateway.document.conditions import CONDITION_DIRECTIVES, literal_exclusion


@dataclass
class NormalizationContext:
    fragments: Mapping[str, FragmentDefinitionNode]
    # per pass: id(input selection set) -> (that input, its output), so shared subtrees are walked once.
    # The input is held so that its id cannot be reused: merging builds selection sets that die within
    # the pass, and a later one at the same address would otherwise be answered with an earlier output.
    memo: dict[int, tuple[SelectionSetNode, SelectionSetNode]] = field(default_factory=dict)

    def recall(self, selection_set: SelectionSetNode) -> SelectionSetNode | None:
        found = self.memo.get(id(selection_set))
        return found[1] if found is not None and found[0] is selection_set else None

    def remember(self, selection_set: SelectionSetNode, output: SelectionSetNode) -> SelectionSetNode:
        self.memo[id(selection_set)] = (selection_set, output)
        return output


NormalizationPass = Callable[[SelectionSetNode, NormalizationContext], SelectionSetNode]


def _rebuild(
    selection_set: SelectionSetNode,
    context: NormalizationContext,
    one: Callable[[SelectionNode], SelectionNode | None],
) -> SelectionSetNode:
    """Apply `one` to each selection (None drops it); the same node back when nothing changed."""
    done = context.recall(selection_set)
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
    return context.remember(selection_set, replace(selection_set, selections=tuple(out)) if changed else selection_set)


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


def merge_fields(selections: Sequence[SelectionNode]) -> tuple[SelectionNode, ...] | None:
    """The selections with same-key fields (same directives too) merged into the first; None if none merge."""
    first: dict[tuple[str, tuple[str, ...]], int] = {}
    merged: list[SelectionNode] = []
    changed = False
    for selection in selections:
        if isinstance(selection, FieldNode):
            key = (
                selection.alias.value if selection.alias else selection.name.value,
                tuple(print_ast(d) for d in selection.directives or ()),
            )
            at = first.get(key)
            if at is not None:
                changed = True
                earlier = merged[at]
                assert isinstance(earlier, FieldNode)
                if earlier.selection_set is not None and selection.selection_set is not None:
                    both = tuple(earlier.selection_set.selections) + tuple(selection.selection_set.selections)
                    merged[at] = replace(earlier, selection_set=replace(earlier.selection_set, selections=both))
                continue
            first[key] = len(merged)
        merged.append(selection)
    return tuple(merged) if changed else None


def merge_same_response_keys(selection_set: SelectionSetNode, context: NormalizationContext) -> SelectionSetNode:
    done = context.recall(selection_set)
    if done is not None:
        return done
    merged = merge_fields(selection_set.selections)
    selections = merged if merged is not None else selection_set.selections
    out: list[SelectionNode] = []
    changed = merged is not None
    for selection in selections:
        inner = _with_children(selection, context, merge_same_response_keys)
        changed = changed or inner is not selection
        out.append(inner)
    return context.remember(selection_set, replace(selection_set, selections=tuple(out)) if changed else selection_set)


# In order; each pass gets a fresh memo (ids are only meaningful within one pass).
PASSES: Sequence[NormalizationPass] = (inline_fragment_spreads, apply_literal_conditions, merge_same_response_keys)


def normalize_selection(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    passes: Sequence[NormalizationPass] = PASSES,
) -> SelectionSetNode:
    for step in passes:
        selection_set = step(selection_set, NormalizationContext(fragments))
    return selection_set
