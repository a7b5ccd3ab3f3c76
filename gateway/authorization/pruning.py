"""Remove what the caller may not read from an operation, before it is planned.

Walks the selected operation with the schema's types. An unauthorized field (or an inline
fragment / fragment spread whose type condition is unauthorized) is dropped and an error is
recorded at its response path; list positions are written "@" since no data exists yet.
A selection set left empty drops its parent field too (GraphQL forbids empty selections); the
errors stay at the children that caused it. Named fragments are pruned per use: an unchanged
spread is kept, a changed one becomes an inline fragment with the pruned selections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.language import DefinitionNode, NamedTypeNode, Node

from gateway.authorization.requirements import Requirement, SchemaRequirements

Path = tuple[str, ...]
N = TypeVar("N", bound=Node)
LIST_MARKER = "@"


class RemovedPath(tuple[str, ...]):
    """A response path (a tuple of keys, "@" for list items) that also knows, for each step,
    whether the value there may be null, so a removed non-null field can null its nearest
    nullable ancestor, as GraphQL's null propagation would."""

    nullable: tuple[bool, ...]

    def __new__(cls, keys: Path, nullable: tuple[bool, ...]) -> RemovedPath:
        path = super().__new__(cls, keys)
        path.nullable = nullable
        return path


@dataclass(frozen=True)
class Position:
    keys: Path = ()
    nullable: tuple[bool, ...] = ()

    def field(self, key: str, type_: GraphQLOutputType) -> tuple[Position, Position]:
        """(where the field's value sits, where its objects sit: one "@" per list level)."""
        here = Position(self.keys + (key,), self.nullable + (not isinstance(type_, GraphQLNonNull),))
        inner = here
        while True:
            if isinstance(type_, GraphQLNonNull):
                type_ = type_.of_type
            if not isinstance(type_, GraphQLList):
                return here, inner
            type_ = type_.of_type
            inner = Position(inner.keys + (LIST_MARKER,), inner.nullable + (not isinstance(type_, GraphQLNonNull),))

    def removed(self) -> RemovedPath:
        return RemovedPath(self.keys, self.nullable)


def replace(node: N, **changes: Any) -> N:
    values = {key: getattr(node, key) for key in node.keys}
    values.update(changes)
    return type(node)(**values)


@dataclass
class Pruner:
    schema: GraphQLSchema
    requirements: SchemaRequirements
    allowed: Callable[[Requirement], bool]
    fragments: dict[str, FragmentDefinitionNode]
    removed: list[tuple[Position, FieldNode | Node]] = field(default_factory=list)
    # fields dropped because every field under them was removed (no error of their own)
    vanished: list[Position] = field(default_factory=list)
    used_fragments: set[str] = field(default_factory=set)
    _visiting: set[str] = field(default_factory=set)

    def _deny(self, path: Position, node: Node) -> None:
        self.removed.append((path, node))

    def selection_set(self, parent: GraphQLNamedType, selection_set: SelectionSetNode, path: Position) -> SelectionSetNode | None:
        """The pruned selection set, the same object if untouched, None if nothing is left."""
        kept = []
        changed = False
        for selection in selection_set.selections:
            result = self._selection(parent, selection, path)
            if result is not selection:
                changed = True
            if result is not None:
                kept.append(result)
        if not kept:
            return None
        if not changed:
            return selection_set
        return replace(selection_set, selections=tuple(kept))

    def _type_condition(self, parent: GraphQLNamedType, condition: NamedTypeNode | None) -> GraphQLNamedType | None:
        if condition is None:
            return parent
        return self.schema.get_type(condition.name.value)

    def _selection(self, parent: GraphQLNamedType, selection: Node, path: Position) -> Node | None:
        if isinstance(selection, FieldNode):
            return self._field(parent, selection, path)
        if isinstance(selection, InlineFragmentNode):
            target = self._type_condition(parent, selection.type_condition)
            if target is None:
                return selection
            if selection.type_condition is not None and not self.allowed(self.requirements.type_requirement(target.name)):
                self._deny(path, selection)
                return None
            pruned = self.selection_set(target, selection.selection_set, path)
            if pruned is None:
                return None
            return selection if pruned is selection.selection_set else replace(selection, selection_set=pruned)
        if isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            definition = self.fragments.get(name)
            if definition is None or name in self._visiting:
                return selection
            target = self._type_condition(parent, definition.type_condition)
            if target is None:
                self.used_fragments.add(name)
                return selection
            if not self.allowed(self.requirements.type_requirement(target.name)):
                self._deny(path, selection)
                return None
            self._visiting.add(name)
            try:
                pruned = self.selection_set(target, definition.selection_set, path)
            finally:
                self._visiting.discard(name)
            if pruned is None:
                return None
            if pruned is definition.selection_set:
                self.used_fragments.add(name)
                return selection
            # Same meaning as the spread, minus what was removed at this use site.
            return InlineFragmentNode(
                type_condition=definition.type_condition,
                directives=selection.directives,
                selection_set=pruned,
                loc=selection.loc,
            )
        return selection

    def _field(self, parent: GraphQLNamedType, node: FieldNode, path: Position) -> FieldNode | None:
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name.startswith("__"):
            return node  # __typename and introspection are always readable
        definition = (getattr(parent, "fields", None) or {}).get(name)
        if definition is None:
            return node
        here, child_path = path.field(key, definition.type)
        if not self.allowed(self.requirements.field_requirement(parent, name)):
            self._deny(here, node)
            return None
        if node.selection_set is None:
            return node
        pruned = self.selection_set(get_named_type(definition.type), node.selection_set, child_path)
        if pruned is None:
            self.vanished.append(here)
            return None
        return node if pruned is node.selection_set else replace(node, selection_set=pruned)


def prune_operation(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    root: GraphQLNamedType,
    pruner: Pruner,
) -> DocumentNode | None:
    """The document with `operation` pruned; None when no root field is left."""
    pruned = pruner.selection_set(root, operation.selection_set, Position())
    if pruned is None:
        return None
    if pruned is operation.selection_set:
        return document
    definitions: list[DefinitionNode] = []
    for definition in document.definitions:
        if definition is operation:
            definitions.append(replace(operation, selection_set=pruned))
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.name.value in pruner.used_fragments:
                definitions.append(definition)
        # other operations are dropped: only the selected one is planned
    return replace(document, definitions=tuple(definitions))
