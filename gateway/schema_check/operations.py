"""Which operations of a persisted-query manifest a schema change breaks.

An operation is broken when it no longer validates against NEW (a removed field, a required argument
added, a variable's type no longer accepted), or when it uses a type or field a breaking change names
(e.g. a field's type changed from String to Int still validates, but the client's parser breaks).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLError, GraphQLSchema, TypeInfo, TypeInfoVisitor, Visitor, parse, validate, visit
from graphql.language import DocumentNode, FieldNode

from gateway.persisted.manifest import PersistedOperation
from gateway.schema_check.classify import BREAKING, Change


@dataclass(frozen=True)
class BrokenOperation:
    operation: PersistedOperation
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.operation.name or self.operation.id


def used_coordinates(schema: GraphQLSchema, document: DocumentNode) -> set[str]:
    """`Type` and `Type.field` for every field the document selects (resolved against `schema`)."""
    type_info = TypeInfo(schema)
    used: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is not None:
                used.add(parent.name)
                used.add(f"{parent.name}.{node.name.value}")
            field_type = type_info.get_type()
            while field_type is not None and hasattr(field_type, "of_type"):
                field_type = field_type.of_type
            if field_type is not None:
                used.add(field_type.name)

        def enter_argument(self, node: object, *_: object) -> None:
            argument = type_info.get_argument()
            if argument is not None:
                argument_type = argument.type
                while hasattr(argument_type, "of_type"):
                    argument_type = argument_type.of_type
                used.add(argument_type.name)

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return used


def broken_operations(old: GraphQLSchema, new: GraphQLSchema, operations: list[PersistedOperation],
                      changes: list[Change]) -> list[BrokenOperation]:
    known = {name for name in old.type_map if not name.startswith("__")}
    breaking = [(change, change.coordinates(known)) for change in changes if change.level == BREAKING]
    broken = []
    for operation in operations:
        try:
            document = parse(operation.body)
        except GraphQLError as error:
            broken.append(BrokenOperation(operation, (f"does not parse: {error.message}",)))
            continue
        if validate(old, document):
            continue  # already invalid against OLD: not this change's doing (publish validates)
        reasons = [error.message for error in validate(new, document)]
        used = used_coordinates(old, document)
        reasons += [change.description for change, names in breaking
                    if names & used and change.description not in reasons]
        if reasons:
            broken.append(BrokenOperation(operation, tuple(reasons)))
    return broken
