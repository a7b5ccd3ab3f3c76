"""The fields a selection set selects on one concrete object type, fragments followed: the walk the cost
estimate, the actual cost and the cache policy share."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
    is_abstract_type,
)


def condition_applies(schema: GraphQLSchema, obj: GraphQLObjectType, condition: str) -> bool:
    """Does a fragment's type condition select `obj` (the type itself, or an interface/union it belongs to)?"""
    if condition == obj.name:
        return True
    cond_type = schema.get_type(condition)
    return cond_type is not None and is_abstract_type(cond_type) and schema.is_sub_type(cond_type, obj)


def fields_on(schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], obj: GraphQLObjectType,
              selection_set: SelectionSetNode, included: Callable[[SelectionNode], bool] | None = None,
              seen: frozenset[str] = frozenset()) -> Iterator[FieldNode]:
    """Each field node selected on `obj`, through inline fragments and spreads whose condition applies; unknown
    or cyclic spreads (validation refuses both) are passed over. `included` drops selections (e.g. @skip)."""
    for selection in selection_set.selections:
        if included is not None and not included(selection):
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            if selection.type_condition is None or condition_applies(schema, obj, selection.type_condition.name.value):
                yield from fields_on(schema, fragments, obj, selection.selection_set, included, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen \
                    and condition_applies(schema, obj, fragment.type_condition.name.value):
                yield from fields_on(schema, fragments, obj, fragment.selection_set, included, seen | {name})
