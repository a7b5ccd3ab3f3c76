"""@defer in a normalized operation: where each deferred fragment sits, and what each response part holds.

The planner reads `defer_split` to give every deferred fragment its own fetches; the executor reads it
(with the request's variables) to know which fragments are deferred this time and to project each part
on the client's selection. Fragment spreads are inlined by normalization, so a deferred spread is an
inline fragment here carrying the spread's `@defer`. `@defer(if: false)` is no defer at all;
`@defer(if: $v)` is decided per request. Only queries defer: graphql-core's validation refuses `@defer`
on a mutation's or subscription's root fields, and a nested one in a mutation is delivered in place.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
)

from gateway.document.conditions import included
from gateway.document.prepared import AnalyzedOperation

DEFER = "defer"
_DEFER_TEXT = re.compile(r"@\s*defer\b")
# how the API schema declares it (as Apollo Router and Hive Gateway expose it)
DEFER_DIRECTIVE_SDL = "directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD | INLINE_FRAGMENT"


@dataclass(frozen=True, eq=False)
class DeferredFragment:
    id: int                      # position among the operation's deferred fragments, in document order
    label: str | None
    if_variable: str | None      # `@defer(if: $v)`: deferred only when $v is true
    path: tuple[str, ...]        # response keys to the object it applies to; "@" per list level
    parent_type: str             # the type at that path
    node: InlineFragmentNode     # as written; its selection still holds the nested deferred fragments
    children: tuple[DeferredFragment, ...]

    @property
    def type_condition(self) -> str | None:
        return self.node.type_condition.name.value if self.node.type_condition else None


@dataclass(frozen=True, eq=False)
class DeferSplit:
    fragments: tuple[DeferredFragment, ...]   # the deferred fragments outside any other
    all: tuple[DeferredFragment, ...]         # every one, by id
    by_node: Mapping[int, DeferredFragment]   # id(InlineFragmentNode) -> its fragment

    def __bool__(self) -> bool:
        return bool(self.all)


NO_DEFER = DeferSplit((), (), {})


def defer_directive(node: SelectionNode) -> DirectiveNode | None:
    """The fragment's @defer unless it is `@defer(if: false)` (no defer at all)."""
    for directive in node.directives or ():
        if directive.name.value == DEFER:
            for argument in directive.arguments or ():
                if argument.name.value == "if" and isinstance(argument.value, BooleanValueNode) \
                        and not argument.value.value:
                    return None
            return directive
    return None


def _arguments(directive: DirectiveNode) -> tuple[str | None, str | None]:
    label: str | None = None
    variable: str | None = None
    for argument in directive.arguments or ():
        if argument.name.value == "label" and isinstance(argument.value, StringValueNode):
            label = argument.value.value
        elif argument.name.value == "if" and isinstance(argument.value, VariableNode):
            variable = argument.value.name.value
    return label, variable


def _list_depth(gql_type: GraphQLOutputType) -> int:
    depth = 0
    while isinstance(gql_type, (GraphQLNonNull, GraphQLList)):
        if isinstance(gql_type, GraphQLList):
            depth += 1
        gql_type = gql_type.of_type
    return depth


_SPLITS: weakref.WeakKeyDictionary[AnalyzedOperation, DeferSplit] = weakref.WeakKeyDictionary()


def defer_split(schema: GraphQLSchema, operation: AnalyzedOperation) -> DeferSplit:
    """The operation's deferred fragments (kept per analysis: the walk is done once)."""
    if not may_defer(operation):
        return NO_DEFER
    found = _SPLITS.get(operation)
    if found is None:
        found = _SPLITS[operation] = _split(schema, operation)
    return found


_MAY_DEFER: weakref.WeakKeyDictionary[AnalyzedOperation, bool] = weakref.WeakKeyDictionary()


def may_defer(operation: AnalyzedOperation) -> bool:
    """Cheap test before the walk: False when the operation cannot defer anything (kept per analysis:
    the response cache and coalescing ask on every request)."""
    found = _MAY_DEFER.get(operation)
    if found is None:
        found = _MAY_DEFER[operation] = operation.type is OperationType.QUERY and (
            not operation.text or _DEFER_TEXT.search(operation.text) is not None)
    return found


def _split(schema: GraphQLSchema, operation: AnalyzedOperation) -> DeferSplit:
    if not may_defer(operation):
        return NO_DEFER
    root = schema.get_root_type(operation.type)
    if root is None:
        return NO_DEFER
    ordered: list[DeferredFragment] = []
    by_node: dict[int, DeferredFragment] = {}

    def fields_of(type_name: str) -> Mapping[str, Any]:
        found = schema.get_type(type_name)
        return found.fields if isinstance(found, (GraphQLObjectType, GraphQLInterfaceType)) else {}

    def walk(selection_set: SelectionSetNode, type_name: str, path: tuple[str, ...],
             out: list[DeferredFragment]) -> None:
        for s in selection_set.selections:
            if isinstance(s, FieldNode):
                if s.selection_set is None:
                    continue
                field_def = fields_of(type_name).get(s.name.value)
                if field_def is None:
                    continue
                key = s.alias.value if s.alias else s.name.value
                walk(s.selection_set, get_named_type(field_def.type).name,
                     path + (key,) + ("@",) * _list_depth(field_def.type), out)
            elif isinstance(s, InlineFragmentNode):
                inner = s.type_condition.name.value if s.type_condition else type_name
                directive = defer_directive(s)
                if directive is None:
                    walk(s.selection_set, inner, path, out)
                    continue
                label, variable = _arguments(directive)
                position = len(ordered)
                ordered.append(None)  # type: ignore[arg-type]  # (its place, filled below)
                children: list[DeferredFragment] = []
                walk(s.selection_set, inner, path, children)
                fragment = DeferredFragment(position, label, variable, path, type_name, s, tuple(children))
                ordered[position] = fragment
                by_node[id(s)] = fragment
                out.append(fragment)

    top: list[DeferredFragment] = []
    walk(operation.selection, root.name, (), top)
    if not ordered:
        return NO_DEFER
    return DeferSplit(tuple(top), tuple(ordered), by_node)


def fragment_active(fragment: DeferredFragment, variables: Mapping[str, Any]) -> bool:
    """Deferred this time (its `if` holds)."""
    return fragment.if_variable is None or bool(variables.get(fragment.if_variable))


def fragment_included(fragment: DeferredFragment, variables: Mapping[str, Any]) -> bool:
    """Not removed by its own @skip/@include."""
    return included(fragment.node, variables)


def deferred_now(split: DeferSplit, variables: Mapping[str, Any]) -> tuple[DeferredFragment, ...]:
    """The fragments delivered as parts after the primary one: deferred this time, with every fragment
    around them either deferred (they follow it) or not (they follow the primary)."""
    out: list[DeferredFragment] = []

    def walk(fragments: tuple[DeferredFragment, ...]) -> None:
        for f in fragments:
            if not fragment_included(f, variables):
                continue
            if fragment_active(f, variables):
                out.append(f)
            else:
                walk(f.children)

    walk(split.fragments)
    return tuple(out)


def without_deferred(selection_set: SelectionSetNode, split: DeferSplit,
                     drop: Callable[[DeferredFragment], bool]) -> SelectionSetNode:
    """The selection with each deferred fragment `drop` says yes to left out (the others stay in place,
    as plain fragments)."""
    changed = False
    kept: list[SelectionNode] = []
    for s in selection_set.selections:
        if isinstance(s, InlineFragmentNode):
            fragment = split.by_node.get(id(s))
            if fragment is not None and drop(fragment):
                changed = True
                continue
        inner = getattr(s, "selection_set", None)
        if inner is not None:
            rebuilt = without_deferred(inner, split, drop)
            if rebuilt is not inner:
                s = _with_selection(s, rebuilt)
                changed = True
        kept.append(s)
    return SelectionSetNode(selections=tuple(kept)) if changed else selection_set


def _with_selection(node: SelectionNode, selection_set: SelectionSetNode) -> SelectionNode:
    if isinstance(node, FieldNode):
        return FieldNode(alias=node.alias, name=node.name, arguments=node.arguments, directives=node.directives,
                         selection_set=selection_set)
    assert isinstance(node, InlineFragmentNode)
    return InlineFragmentNode(type_condition=node.type_condition, directives=node.directives,
                              selection_set=selection_set)
