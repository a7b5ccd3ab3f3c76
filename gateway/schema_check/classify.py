"""Every change from OLD to NEW, as breaking / dangerous / safe.

Breaking and dangerous changes are graphql-core's (`find_breaking_changes`, `find_dangerous_changes`: a
removed field, a type changed, a required argument added...; an enum value or an optional argument added,
a default changed...). Safe changes are the additions those two do not report: new types, fields, enum
values... an existing client cannot notice them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    find_breaking_changes,
    find_dangerous_changes,
)

BREAKING, DANGEROUS, SAFE = "breaking", "dangerous", "safe"
# "Query.me", "Resident" ...: the schema coordinates a change's description names
_COORDINATE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\b")


@dataclass(frozen=True)
class Change:
    level: str          # breaking | dangerous | safe
    kind: str           # graphql-core's change type (FIELD_REMOVED...) or ours (FIELD_ADDED...)
    description: str

    def coordinates(self, known_types: set[str]) -> set[str]:
        """What the change is about: the `Type.field`s its description names, or else the types it names
        (only names OLD knows; "from String to Int" in a field's change is not about every String)."""
        fields, types = set(), set()
        for match in _COORDINATE.finditer(self.description):
            type_name, field = match.group(1), match.group(2)
            if type_name in known_types:
                (fields.add(f"{type_name}.{field}") if field else types.add(type_name))
        return fields or types


def classify_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[Change]:
    # graphql-core reports a built-in scalar no field uses any more (Int, ...) as removed; no client can tell.
    changes = [Change(SAFE if c.description.startswith("Standard scalar") else BREAKING, c.type.name, c.description)
               for c in find_breaking_changes(old, new)]
    changes += [Change(DANGEROUS, c.type.name, c.description) for c in find_dangerous_changes(old, new)]
    reported = {c.description for c in changes}
    changes += [c for c in _additions(old, new) if c.description not in reported]
    return changes


def _additions(old: GraphQLSchema, new: GraphQLSchema) -> list[Change]:
    """New types and output fields, and fields newly deprecated. (Optional arguments and input fields,
    enum values and union members added are dangerous, and graphql-core reports them.)"""
    added: list[Change] = []
    for name, new_type in sorted(new.type_map.items()):
        if name.startswith("__"):
            continue
        old_type = old.type_map.get(name)
        if old_type is None:
            added.append(Change(SAFE, "TYPE_ADDED", f"{name} was added."))
            continue
        if not (isinstance(new_type, (GraphQLObjectType, GraphQLInterfaceType))
                and isinstance(old_type, (GraphQLObjectType, GraphQLInterfaceType))):
            continue
        for field_name, field in sorted(new_type.fields.items()):
            before = old_type.fields.get(field_name)
            if before is None:
                added.append(Change(SAFE, "FIELD_ADDED", f"{name}.{field_name} was added."))
            elif field.deprecation_reason is not None and before.deprecation_reason is None:
                added.append(Change(SAFE, "FIELD_DEPRECATED",
                                    f"{name}.{field_name} was deprecated: {field.deprecation_reason}"))
    return added
