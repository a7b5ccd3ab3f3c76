"""Parse one subgraph SDL into the composition model.

Federation 2 subgraphs name their federation directives through `@link(url: ".../federation/v2.x", import: …)`;
each application is tagged with its canonical federation name so later stages never care about aliases.
Subgraphs without a federation `@link` are Federation 1 subgraphs and use the bare names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graphql import (
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLSyntaxError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    parse,
    print_ast,
)

from gateway.composition.model import Applied, ArgDef, DirectiveDef, EnumValueDef, FieldDef, Link, TypeDef
from gateway.composition.source import SubgraphSource

FEDERATION_IDENTITY = "https://specs.apollo.dev/federation"
LINK_IDENTITY = "https://specs.apollo.dev/link"
FEDERATION_DIRECTIVES = (
    "key", "external", "requires", "provides", "extends", "shareable", "override", "tag", "inaccessible",
    "composeDirective", "interfaceObject", "authenticated", "requiresScopes", "policy", "context",
    "fromContext", "cost", "listSize", "cacheTag",
)
FED1_DIRECTIVES = ("key", "external", "requires", "provides", "extends", "tag", "inaccessible", "shareable")
BUILTIN_SCALARS = ("Int", "Float", "String", "Boolean", "ID")
# Types and directives a subgraph exposes for the federation protocol; they never reach the supergraph.
FEDERATION_TYPE_NAMES = {"_Any", "_Entity", "_Service", "_FieldSet", "FieldSet", "link__Import", "link__Purpose",
                         "link__Purpose", "federation__Scope", "federation__Policy", "federation__ContextFieldValue",
                         "federation__FieldSet", "federation__Any", "Scope", "Policy"}
ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}

# Since which federation version each element may be imported (Apollo rejects anything else).
FEDERATION_ELEMENT_SINCE: dict[str, tuple[int, int]] = {
    "@key": (2, 0), "@external": (2, 0), "@requires": (2, 0), "@provides": (2, 0), "@extends": (2, 0),
    "@shareable": (2, 0), "@override": (2, 0), "@tag": (2, 0), "@inaccessible": (2, 0), "FieldSet": (2, 0),
    "@composeDirective": (2, 1), "@interfaceObject": (2, 3), "@authenticated": (2, 5), "@requiresScopes": (2, 5),
    "Scope": (2, 5), "@policy": (2, 6), "Policy": (2, 6), "@context": (2, 8), "@fromContext": (2, 8),
    "ContextFieldValue": (2, 8), "@cost": (2, 9), "@listSize": (2, 9), "@cacheTag": (2, 12),
}
LATEST_FEDERATION_VERSION = (2, 14)

_URL_RE = re.compile(r"^(?P<identity>.+)/(?P<name>[A-Za-z_][A-Za-z0-9_-]*)/v(?P<major>\d+)\.(?P<minor>\d+)$")


class SubgraphParseError(Exception):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


@dataclass
class Subgraph:
    name: str
    url: str
    types: dict[str, TypeDef] = field(default_factory=dict)
    directive_defs: dict[str, DirectiveDef] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # operation -> type name
    links: list[Link] = field(default_factory=list)
    federation_link: Link | None = None
    compose_directives: list[str] = field(default_factory=list)  # names without "@"
    schema_directives: list[Applied] = field(default_factory=list)

    @property
    def is_fed2(self) -> bool:
        return self.federation_link is not None

    @property
    def federation_version(self) -> tuple[int, int] | None:
        return self.federation_link.version if self.federation_link else None

    def root_kind(self, type_name: str) -> str | None:
        for op, name in self.roots.items():
            if name == type_name:
                return op
        return None

    def object_or_interface(self, type_name: str) -> TypeDef | None:
        t = self.types.get(type_name)
        return t if t is not None and t.kind in ("OBJECT", "INTERFACE") else None

    def is_composite(self, type_name: str) -> bool:
        t = self.types.get(type_name)
        return t is not None and t.kind in ("OBJECT", "INTERFACE", "UNION")

    def implementations(self, interface_name: str) -> list[TypeDef]:
        return [t for t in self.types.values() if t.kind == "OBJECT" and interface_name in t.interfaces]

    def is_interface_object(self, t: TypeDef) -> bool:
        return t.kind == "OBJECT" and t.has("interfaceObject")


def parse_link(directive: DirectiveNode) -> Link | None:
    args = {a.name.value: a.value for a in directive.arguments or ()}
    url_node = args.get("url")
    if not isinstance(url_node, StringValueNode):
        return None
    match = _URL_RE.match(url_node.value)
    if not match:
        return None
    alias_node = args.get("as")
    imports: dict[str, str] = {}
    import_node = args.get("import")
    if isinstance(import_node, ListValueNode):
        for item in import_node.values:
            if isinstance(item, StringValueNode):
                imports[item.value] = item.value
            elif isinstance(item, ObjectValueNode):
                fields = {f.name.value: f.value for f in item.fields}
                name = fields.get("name")
                alias = fields.get("as")
                if isinstance(name, StringValueNode):
                    imports[name.value] = alias.value if isinstance(alias, StringValueNode) else name.value
    return Link(
        url=url_node.value,
        identity=match.group("identity") + "/" + match.group("name"),
        name=match.group("name"),
        version=(int(match.group("major")), int(match.group("minor"))),
        alias=alias_node.value if isinstance(alias_node, StringValueNode) else None,
        imports=imports,
    )


def _description(node) -> str | None:
    desc = getattr(node, "description", None)
    return desc.value if desc is not None else None


class _Builder:
    def __init__(self, source: SubgraphSource, document: DocumentNode) -> None:
        self.sg = Subgraph(name=source.name, url=source.url)
        self.document = document
        self.fed_by_local: dict[str, str] = {}

    def build(self) -> Subgraph:
        self._read_links()
        for node in self.document.definitions:
            self._read_definition(node)
        self._normalize_roots()
        self._drop_federation_machinery()
        return self.sg

    # -- links and federation names -------------------------------------------------------------
    def _read_links(self) -> None:
        for node in self.document.definitions:
            if isinstance(node, (SchemaDefinitionNode, SchemaExtensionNode)):
                for d in node.directives or ():
                    if d.name.value == "link":
                        link = parse_link(d)
                        if link is None:
                            continue
                        self.sg.links.append(link)
                        if link.identity == FEDERATION_IDENTITY:
                            self.sg.federation_link = link
        fed = self.sg.federation_link
        if fed is not None:
            self._check_federation_link(fed)
            for name in FEDERATION_DIRECTIVES:
                self.fed_by_local[fed.local_directive_name(name)] = name
        else:
            for name in FED1_DIRECTIVES:
                self.fed_by_local[name] = name

    def _check_federation_link(self, fed: Link) -> None:
        errors = []
        if fed.version[0] != 2 or fed.version > LATEST_FEDERATION_VERSION:
            errors.append(f'[{self.sg.name}] Invalid version v{fed.version[0]}.{fed.version[1]} for the federation '
                          f"feature in @link direction on schema (the latest known is v2.{LATEST_FEDERATION_VERSION[1]}).")
        for element in fed.imports:
            since = FEDERATION_ELEMENT_SINCE.get(element)
            if since is None or since > fed.version:
                errors.append(f'[{self.sg.name}] Cannot import unknown element "{element}" from federation '
                              f"v{fed.version[0]}.{fed.version[1]}.")
        if errors:
            raise SubgraphParseError(errors)

    def _applied(self, nodes, on_extension: bool) -> list[Applied]:
        out = []
        for d in nodes or ():
            local = d.name.value
            fed = self.fed_by_local.get(local)
            out.append(Applied(
                name=fed if fed is not None else local,
                args={a.name.value: a.value for a in d.arguments or ()},
                on_extension=on_extension,
                fed=fed,
            ))
        return out

    # -- definitions -------------------------------------------------------------------------------
    def _type(self, name: str, kind: str, node, is_extension: bool) -> TypeDef:
        t = self.sg.types.get(name)
        if t is None:
            t = TypeDef(name=name, kind=kind)
            self.sg.types[name] = t
        elif t.kind != kind:
            raise SubgraphParseError([f'[{self.sg.name}] Type "{name}" is defined both as {t.kind} and {kind}'])
        if is_extension:
            t.has_extension = True
        else:
            t.has_definition = True
            if _description(node) is not None:
                t.description = _description(node)
        t.directives.extend(self._applied(node.directives, is_extension))
        return t

    def _read_definition(self, node) -> None:
        if isinstance(node, (SchemaDefinitionNode, SchemaExtensionNode)):
            for op in node.operation_types or ():
                self.sg.roots[op.operation.value] = op.type.name.value
            applied = self._applied(node.directives, isinstance(node, SchemaExtensionNode))
            self.sg.schema_directives.extend(a for a in applied if a.name != "link")
            for a in applied:
                if a.fed == "composeDirective":
                    name = a.string_arg("name")
                    if name:
                        self.sg.compose_directives.append(name.lstrip("@"))
            return
        if isinstance(node, DirectiveDefinitionNode):
            self.sg.directive_defs[node.name.value] = DirectiveDef(
                name=node.name.value,
                args={a.name.value: self._arg(a) for a in node.arguments or ()},
                locations=[loc.value for loc in node.locations],
                repeatable=node.repeatable,
                description=_description(node),
            )
            return
        kinds = {
            ObjectTypeDefinitionNode: ("OBJECT", False), ObjectTypeExtensionNode: ("OBJECT", True),
            InterfaceTypeDefinitionNode: ("INTERFACE", False), InterfaceTypeExtensionNode: ("INTERFACE", True),
            UnionTypeDefinitionNode: ("UNION", False), UnionTypeExtensionNode: ("UNION", True),
            EnumTypeDefinitionNode: ("ENUM", False), EnumTypeExtensionNode: ("ENUM", True),
            ScalarTypeDefinitionNode: ("SCALAR", False), ScalarTypeExtensionNode: ("SCALAR", True),
            InputObjectTypeDefinitionNode: ("INPUT_OBJECT", False), InputObjectTypeExtensionNode: ("INPUT_OBJECT", True),
        }
        found = kinds.get(type(node))
        if found is None:
            raise SubgraphParseError([f"[{self.sg.name}] Unsupported definition in a subgraph schema: {node.kind}"])
        kind, is_extension = found
        t = self._type(node.name.value, kind, node, is_extension)
        if kind in ("OBJECT", "INTERFACE"):
            for itf in node.interfaces or ():
                if itf.name.value not in t.interfaces:
                    t.interfaces.append(itf.name.value)
            for f in node.fields or ():
                t.fields[f.name.value] = FieldDef(
                    name=f.name.value,
                    type=print_ast(f.type),
                    args={a.name.value: self._arg(a) for a in f.arguments or ()},
                    directives=self._applied(f.directives, is_extension),
                    description=_description(f),
                    on_extension=is_extension,
                )
        elif kind == "INPUT_OBJECT":
            for f in node.fields or ():
                t.fields[f.name.value] = FieldDef(
                    name=f.name.value,
                    type=print_ast(f.type),
                    directives=self._applied(f.directives, is_extension),
                    description=_description(f),
                    on_extension=is_extension,
                    default=f.default_value,
                )
        elif kind == "UNION":
            for m in node.types or ():
                if m.name.value not in t.members:
                    t.members.append(m.name.value)
        elif kind == "ENUM":
            for v in node.values or ():
                t.values[v.name.value] = EnumValueDef(
                    name=v.name.value, directives=self._applied(v.directives, is_extension), description=_description(v)
                )

    def _arg(self, a) -> ArgDef:
        return ArgDef(
            name=a.name.value,
            type=print_ast(a.type),
            default=a.default_value,
            directives=self._applied(a.directives, False),
            description=_description(a),
        )

    # -- normalization -----------------------------------------------------------------------------
    def _normalize_roots(self) -> None:
        """Root types take their default names (Query, Mutation, Subscription), as Apollo does."""
        for op, default in ROOT_NAMES.items():
            current = self.sg.roots.get(op, default if default in self.sg.types else None)
            if current is None:
                continue
            if current != default and current in self.sg.types:
                t = self.sg.types.pop(current)
                t.name = default
                self.sg.types[default] = t
                self._rename_references(current, default)
            self.sg.roots[op] = default

    def _rename_references(self, old: str, new: str) -> None:
        pattern = re.compile(rf"\b{re.escape(old)}\b")
        for t in self.sg.types.values():
            for f in t.fields.values():
                f.type = pattern.sub(new, f.type)
                for a in f.args.values():
                    a.type = pattern.sub(new, a.type)
            t.members = [new if m == old else m for m in t.members]
            t.interfaces = [new if i == old else i for i in t.interfaces]

    def _drop_federation_machinery(self) -> None:
        for name in list(self.sg.types):
            if name in FEDERATION_TYPE_NAMES or name.startswith("federation__") or name.startswith("link__"):
                del self.sg.types[name]
        query = self.sg.types.get("Query")
        if query is not None:
            query.fields.pop("_service", None)
            query.fields.pop("_entities", None)
        for name in list(self.sg.directive_defs):
            if name in self.fed_by_local or name in ("link", "core") or name.startswith("federation__"):
                del self.sg.directive_defs[name]
        # Every subgraph answers `_service`, so every subgraph has a Query root for the supergraph.
        if "Query" not in self.sg.types:
            self.sg.types["Query"] = TypeDef(name="Query", kind="OBJECT", has_definition=True)
        self.sg.roots.setdefault("query", "Query")


def parse_subgraph(source: SubgraphSource) -> Subgraph:
    try:
        document = parse(source.sdl)
    except GraphQLSyntaxError as err:
        raise SubgraphParseError([f"[{source.name}] The SDL does not parse: {err.message}"]) from None
    return _Builder(source, document).build()
