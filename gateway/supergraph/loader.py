"""Read a supergraph SDL's join__ directives into the ownership model."""

from __future__ import annotations

from typing import Any

from graphql import (
    ConstDirectiveNode,
    EnumTypeDefinitionNode,
    FieldNode,
    EnumTypeExtensionNode,
    GraphQLError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    build_ast_schema,
    parse,
    print_ast,
    value_from_ast_untyped,
)

from gateway.supergraph.api_schema import build_api_schema
from gateway.supergraph.fieldset import parse_field_set
from gateway.supergraph.links import read_link_names
from gateway.supergraph.model import (
    EntityKey,
    FieldOwnership,
    FieldPresence,
    SubgraphInfo,
    Supergraph,
    TypeOwnership,
)


class SupergraphError(ValueError):
    """The text is not a usable Federation 2 supergraph."""


# join spec versions whose directives this loader reads; v0.1 is Federation 1's (with @join__owner)
KNOWN_JOIN_VERSIONS = ("v0.1", "v0.2", "v0.3", "v0.4", "v0.5")


_KINDS = {
    ObjectTypeDefinitionNode: "object",
    ObjectTypeExtensionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    InterfaceTypeExtensionNode: "interface",
    UnionTypeDefinitionNode: "union",
    UnionTypeExtensionNode: "union",
    InputObjectTypeDefinitionNode: "input",
    InputObjectTypeExtensionNode: "input",
    EnumTypeDefinitionNode: "enum",
    EnumTypeExtensionNode: "enum",
    ScalarTypeDefinitionNode: "scalar",
}


def _args(directive: ConstDirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def load_supergraph(sdl: str) -> Supergraph:
    try:
        document = parse(sdl)
    except GraphQLError as error:
        raise SupergraphError(f"supergraph SDL does not parse: {error.message}") from error
    names = read_link_names(document)
    if names.join_version and names.join_version not in KNOWN_JOIN_VERSIONS:
        raise SupergraphError(
            f"supergraph links join {names.join_version}, which kyodo cannot read (it reads join "
            f"{', '.join(KNOWN_JOIN_VERSIONS)}): recompose it for Federation 2 with `kyodo compose` or "
            "`rover supergraph compose` (federation_version: =2)")
    try:
        schema = build_ast_schema(document, assume_valid_sdl=True)
        api_schema = build_api_schema(document, names)
    except (GraphQLError, TypeError) as error:
        raise SupergraphError(f"supergraph SDL is not a valid schema: {error}") from error

    join_type = names.join_directive("type")
    join_field = names.join_directive("field")
    join_implements = names.join_directive("implements")
    join_union = names.join_directive("unionMember")
    join_graph = names.join_directive("graph")
    graph_enum = names.join_directive("Graph")

    subgraphs: dict[str, SubgraphInfo] = {}
    graph_order: list[str] = []
    for d in document.definitions:
        if isinstance(d, (EnumTypeDefinitionNode, EnumTypeExtensionNode)) and d.name.value == graph_enum:
            for v in d.values or ():
                for directive in v.directives or ():
                    if directive.name.value == join_graph:
                        a = _args(directive)
                        subgraphs[v.name.value] = SubgraphInfo(name=str(a.get("name", v.name.value)), url=str(a.get("url", "")))
                        graph_order.append(v.name.value)
    if not subgraphs:
        raise SupergraphError(f"supergraph declares no subgraphs (no enum {graph_enum} with @{join_graph} values)")

    join_owner = names.join_directive("owner")
    types: dict[str, TypeOwnership] = {}
    declared_graphs: dict[str, bool] = {}
    owners: dict[str, str] = {}  # Federation 1 (join v0.1): type -> the graph that owns its fields
    for d in document.definitions:
        kind = _KINDS.get(type(d))
        if kind is None or not isinstance(d, (TypeDefinitionNode, TypeExtensionNode)):
            continue
        type_name = d.name.value
        if type_name.startswith(names.machinery_prefixes()):
            continue
        owner = types.setdefault(type_name, TypeOwnership(name=type_name, kind=kind))
        for directive in d.directives or ():
            dn = directive.name.value
            a = _args(directive)
            if dn == join_type:
                graph = str(a["graph"])
                owner.graphs.add(graph)
                declared_graphs[type_name] = True
                if a.get("key"):
                    owner.keys.append(
                        EntityKey(graph=graph, fields=str(a["key"]), selection=parse_field_set(str(a["key"])),
                                  resolvable=bool(a.get("resolvable", True)))
                    )
                if a.get("isInterfaceObject"):
                    owner.interface_object_graphs.add(graph)
                if a.get("extension"):
                    owner.extension_graphs.add(graph)
            elif dn == join_owner:
                owners[type_name] = str(a["graph"])
            elif dn == join_implements:
                owner.implements.setdefault(str(a["interface"]), set()).add(str(a["graph"]))
            elif dn == join_union:
                owner.union_members.setdefault(str(a["member"]), set()).add(str(a["graph"]))
        for f in getattr(d, "fields", None) or ():
            if kind not in ("object", "interface"):
                continue
            fo = owner.fields.setdefault(f.name.value, FieldOwnership(name=f.name.value, parent=type_name))
            field_type_text = print_ast(f.type)
            joins = [x for x in f.directives or () if x.name.value == join_field]
            for directive in joins:
                a = _args(directive)
                if "graph" not in a or a["graph"] is None:
                    continue  # bare @join__field: no subgraph resolves it directly (interface objects do)
                graph = str(a["graph"])
                requires = a.get("requires")
                provides = a.get("provides")
                type_in_graph = a.get("type")
                fo.presences[graph] = FieldPresence(
                    graph=graph,
                    external=bool(a.get("external", False)),
                    requires=parse_field_set(str(requires)) if requires else None,
                    requires_text=str(requires) if requires else None,
                    provides=parse_field_set(str(provides)) if provides else None,
                    type_in_graph=str(type_in_graph) if type_in_graph and type_in_graph != field_type_text else None,
                    override_from=str(a["override"]) if a.get("override") else None,
                    used_overridden=bool(a.get("usedOverridden", False)),
                )
            if not joins:
                fo.implicit = True  # type: ignore[attr-defined]

    # A type or field without join directives belongs to every graph that knows its parent.
    all_graphs = set(subgraphs)
    for owner in types.values():
        if not declared_graphs.get(owner.name):
            owner.graphs = set(all_graphs)
        owning_graph = owners.get(owner.name)
        for fo in owner.fields.values():
            if getattr(fo, "implicit", False):
                for graph in owner.graphs:
                    # Federation 1: the owner resolves the type's own fields; a graph that extends the
                    # entity holds only its key fields (it receives them in representations)
                    if owning_graph is None or graph == owning_graph or any(
                            fo.name in _top_fields(k.fields) for k in owner.keys_in(graph)):
                        fo.presences[graph] = FieldPresence(graph=graph)
    # Union members: a union without join__unionMember lists its members in every graph that knows it.
    for owner in types.values():
        if owner.kind == "union" and not owner.union_members:
            gql_type = schema.get_type(owner.name)
            for member in getattr(gql_type, "types", ()):
                owner.union_members[member.name] = set(owner.graphs) & types[member.name].graphs
    # Fed 2 always writes join__implements; without any, every graph knowing both types implies it.
    if not _has_any_implements(types):
        for owner in types.values():
            if owner.kind == "object":
                for iface in getattr(schema.get_type(owner.name), "interfaces", ()):
                    owner.implements[iface.name] = owner.graphs & types[iface.name].graphs

    return Supergraph(
        sdl=sdl,
        schema=schema,
        api_schema=api_schema,
        subgraphs=subgraphs,
        types=types,
        graph_order=graph_order,
    )


def _has_any_implements(types: dict[str, TypeOwnership]) -> bool:
    return any(t.implements for t in types.values())


def _top_fields(field_set: str) -> set[str]:
    return {s.name.value for s in parse_field_set(field_set).selections if isinstance(s, FieldNode)}
