"""A contract's API schema: the supergraph with every element tagged for exclusion (or, with include tags,
every element not tagged for inclusion) made `@inaccessible`, then the usual API-schema derivation
(gateway/supergraph/api_schema.py), then the types no longer reachable from a root dropped.

Semantics (close to Apollo's contracts):
- exclude: a type, field, argument, enum value or input field carrying an excluded tag is removed; a field
  whose type is removed goes with it; an object or interface left with no field is removed too (and so on,
  until nothing changes).
- include: an object or interface field stays only if it or its type carries an included tag (root
  fields included); other kinds of element stay unless excluded.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NameNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeExtensionNode,
    StringValueNode,
    TypeDefinitionNode,
    parse,
)

from gateway.supergraph.api_schema import build_api_schema
from gateway.supergraph.links import LinkNames, read_link_names

_OBJECTS = (ObjectTypeDefinitionNode, ObjectTypeExtensionNode, InterfaceTypeDefinitionNode, InterfaceTypeExtensionNode)


class ContractError(ValueError):
    """A contract that leaves nothing to serve (e.g. every Query field filtered out)."""


def _tags(node: Any, tag: str) -> set[str]:
    found = set()
    for directive in getattr(node, "directives", None) or ():
        if directive.name.value == tag:
            for argument in directive.arguments or ():
                if argument.name.value == "name" and isinstance(argument.value, StringValueNode):
                    found.add(argument.value.value)
    return found


def _named(type_node: Any) -> str:
    while isinstance(type_node, (ListTypeNode, NonNullTypeNode)):
        type_node = type_node.type
    return str(type_node.name.value)


def _hide(node: Any, inaccessible: str) -> Any:
    if any(d.name.value == inaccessible for d in node.directives or ()):
        return node
    marker = ConstDirectiveNode(name=NameNode(value=inaccessible), arguments=())
    return node.__class__(**{**{k: getattr(node, k) for k in node.keys if k != "loc"},
                             "directives": (*(node.directives or ()), marker)})


def _already_hidden(node: Any, inaccessible: str) -> bool:
    return any(d.name.value == inaccessible for d in getattr(node, "directives", None) or ())


def contract_document(document: DocumentNode, names: LinkNames, include: Iterable[str],
                      exclude: Iterable[str]) -> DocumentNode:
    include, exclude = set(include), set(exclude)
    tag, inaccessible = names.tag, names.inaccessible
    machinery = names.machinery_prefixes()
    definitions = [d for d in document.definitions]
    types = {d.name.value: d for d in definitions if isinstance(d, TypeDefinitionNode)}

    hidden_types = {name for name, d in types.items()
                    if not name.startswith(machinery) and (_tags(d, tag) & exclude or _already_hidden(d, inaccessible))}

    def value_removed(node: Any) -> bool:
        """An argument or input field: excluded itself, or of a removed input type."""
        return (_already_hidden(node, inaccessible) or bool(_tags(node, tag) & exclude)
                or _named(node.type) in hidden_types)

    def field_kept(parent: Any, field: FieldDefinitionNode) -> bool:
        if _already_hidden(field, inaccessible) or _tags(field, tag) & exclude:
            return False
        if _named(field.type) in hidden_types:
            return False
        if include and not ((_tags(field, tag) | _tags(parent, tag)) & include):
            return False
        # a field whose required argument is gone can no longer be called
        return not any(value_removed(a) and _required(a) for a in field.arguments or ())

    # Removing a field can empty a type, which removes the fields returning it; an input type losing a
    # required field is unusable, which removes the arguments of that type: repeat until stable.
    while True:
        emptied = {d.name.value for d in definitions if isinstance(d, _OBJECTS) and d.name.value not in hidden_types
                   and not d.name.value.startswith(machinery)
                   and not any(field_kept(d, f) for f in d.fields or ())}
        emptied |= {d.name.value for d in definitions
                    if isinstance(d, InputObjectTypeDefinitionNode) and d.name.value not in hidden_types
                    and (any(value_removed(f) and _required(f) for f in d.fields or ())
                         or all(value_removed(f) for f in d.fields or ()))}
        if not emptied:
            break
        hidden_types |= emptied

    def without(nodes: Any) -> tuple[Any, ...]:
        return tuple(_hide(n, inaccessible) if value_removed(n) else n for n in nodes or ())

    out = []
    for d in definitions:
        name = getattr(getattr(d, "name", None), "value", None)
        if name in hidden_types and isinstance(d, TypeDefinitionNode):
            out.append(_hide(d, inaccessible))
            continue
        if isinstance(d, _OBJECTS):
            fields = tuple(f if field_kept(d, f) else _hide(f, inaccessible) for f in d.fields or ())
            fields = tuple(_replace(f, arguments=without(f.arguments)) for f in fields)
            d = _replace(d, fields=fields)
        elif isinstance(d, EnumTypeDefinitionNode):
            d = _replace(d, values=tuple(_hide(v, inaccessible) if _tags(v, tag) & exclude else v
                                         for v in d.values or ()))
        elif isinstance(d, InputObjectTypeDefinitionNode):
            d = _replace(d, fields=without(d.fields))
        out.append(d)
    return DocumentNode(definitions=tuple(out))


def _required(node: Any) -> bool:
    return isinstance(node.type, NonNullTypeNode) and node.default_value is None


def _replace(node: Any, **changes: Any) -> Any:
    return node.__class__(**{**{k: getattr(node, k) for k in node.keys if k != "loc"}, **changes})


def contract_schema(supergraph_sdl: str, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> GraphQLSchema:
    document = parse(supergraph_sdl)
    names = read_link_names(document)
    api = build_api_schema(contract_document(document, names, include, exclude), names)
    if api.query_type is None or not api.query_type.fields:
        raise ContractError("the contract leaves no Query field")
    # Rebuilt from its roots only: input types, enums and scalars no kept field uses are dropped.
    return GraphQLSchema(query=api.query_type, mutation=api.mutation_type, subscription=api.subscription_type,
                         directives=api.directives, description=api.description)


def contract_supergraph(supergraph: Any, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> Any:
    """The supergraph as the planner sees it, with the contract's API schema for validation and introspection."""
    return dataclasses.replace(supergraph, api_schema=contract_schema(supergraph.sdl, include, exclude),
                               _possible_cache={})
