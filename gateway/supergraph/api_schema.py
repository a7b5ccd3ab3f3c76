"""Derive the API schema (what clients see) from a supergraph document.

Removes the join__/link__ machinery, every `@inaccessible` element and every applied directive other
than @deprecated/@specifiedBy/@oneOf, so a query naming a hidden element fails validation. Declares
`@defer` (the gateway delivers deferred fragments incrementally).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ConstDirectiveNode,
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
    parse,
)
from graphql.language import Node

from gateway.supergraph.links import LinkNames

_KEPT_DIRECTIVES = {"deprecated", "specifiedBy", "oneOf"}
_DEFER_DEFINITION = parse(
    "directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD | INLINE_FRAGMENT"
).definitions[0]


def _hidden(node: Node, inaccessible: str) -> bool:
    return any(d.name.value == inaccessible for d in getattr(node, "directives", None) or ())


def _kept_directives(node: Node) -> tuple[ConstDirectiveNode, ...]:
    return tuple(d for d in getattr(node, "directives", None) or () if d.name.value in _KEPT_DIRECTIVES)


def _named(type_node: TypeNode) -> str:
    while isinstance(type_node, (ListTypeNode, NonNullTypeNode)):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    name: str = type_node.name.value
    return name


def build_api_schema(document: DocumentNode, names: LinkNames) -> GraphQLSchema:
    prefixes = names.machinery_prefixes()
    hidden_types: set[str] = set()
    for d in document.definitions:
        if isinstance(d, TypeDefinitionNode):
            if d.name.value.startswith(prefixes) or _hidden(d, names.inaccessible):
                hidden_types.add(d.name.value)

    definitions: list[DefinitionNode] = []
    for d in document.definitions:
        if isinstance(d, DirectiveDefinitionNode):
            if d.name.value in _KEPT_DIRECTIVES:
                definitions.append(d)
            continue  # custom directives are subgraph business, not the client's
        if isinstance(d, (SchemaDefinitionNode, SchemaExtensionNode)):
            ops = tuple(o for o in d.operation_types or () if _named(o.type) not in hidden_types)
            definitions.append(d.__class__(operation_types=ops, directives=(), description=getattr(d, "description", None)))
            continue
        name = getattr(d, "name", None)
        if name is not None and name.value in hidden_types:
            continue
        if isinstance(d, (ObjectTypeDefinitionNode, ObjectTypeExtensionNode, InterfaceTypeDefinitionNode, InterfaceTypeExtensionNode)):
            fields: list[FieldDefinitionNode] = []
            for f in d.fields or ():
                if _hidden(f, names.inaccessible) or _named(f.type) in hidden_types:
                    continue
                args = tuple(
                    a.__class__(**{**_node_kwargs(a), "directives": _kept_directives(a)})
                    for a in f.arguments or ()
                    if not _hidden(a, names.inaccessible)
                )
                fields.append(f.__class__(**{**_node_kwargs(f), "arguments": args, "directives": _kept_directives(f)}))
            interfaces = tuple(i for i in d.interfaces or () if i.name.value not in hidden_types)
            definitions.append(d.__class__(**{**_node_kwargs(d), "fields": tuple(fields), "interfaces": interfaces, "directives": ()}))
        elif isinstance(d, (UnionTypeDefinitionNode, UnionTypeExtensionNode)):
            members = tuple(m for m in d.types or () if m.name.value not in hidden_types)
            definitions.append(d.__class__(**{**_node_kwargs(d), "types": members, "directives": ()}))
        elif isinstance(d, (EnumTypeDefinitionNode, EnumTypeExtensionNode)):
            values = tuple(
                v.__class__(**{**_node_kwargs(v), "directives": _kept_directives(v)})
                for v in d.values or ()
                if not _hidden(v, names.inaccessible)
            )
            definitions.append(d.__class__(**{**_node_kwargs(d), "values": values, "directives": ()}))
        elif isinstance(d, (InputObjectTypeDefinitionNode, InputObjectTypeExtensionNode)):
            input_fields = tuple(
                f.__class__(**{**_node_kwargs(f), "directives": _kept_directives(f)})
                for f in d.fields or ()
                if not _hidden(f, names.inaccessible)
            )
            definitions.append(d.__class__(**{**_node_kwargs(d), "fields": input_fields, "directives": ()}))
        elif isinstance(d, TypeDefinitionNode):
            definitions.append(d.__class__(**{**_node_kwargs(d), "directives": _kept_directives(d)}))
        else:
            definitions.append(d)
    if not any(isinstance(d, DirectiveDefinitionNode) and d.name.value == "defer" for d in definitions):
        # incremental delivery, as Apollo Router and Hive Gateway expose it (gateway/document/defer.py)
        definitions.append(_DEFER_DEFINITION)
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)


def _node_kwargs(node: Node) -> dict[str, Any]:
    return {k: getattr(node, k) for k in node.keys if k != "loc"}
