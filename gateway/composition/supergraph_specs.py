"""Definitions of the specs a supergraph links (link, join, tag, inaccessible, access control, cost).

The text is the specs' published SDL; composition picks the join version from the highest federation
version any subgraph uses, as Apollo does (2.7 → join v0.4, 2.8 → join v0.5).
"""

from __future__ import annotations

from graphql import (
    DirectiveDefinitionNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    parse,
    print_ast,
)

from gateway.composition.supergraph_model import SArg, SApplied, SDirectiveDef, SEnumValue, SField, SType, gql_string

LINK_SDL = '''
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar link__Import
enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}
'''


def join_sdl(minor: int) -> str:
    field_args = ("graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, "
                  "external: Boolean, override: String, usedOverridden: Boolean")
    extra = ""
    if minor >= 4:
        field_args += ", overrideLabel: String"
        extra += ("directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) "
                  "repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION\nscalar join__DirectiveArguments\n")
    if minor >= 5:
        field_args += ", contextArguments: [join__ContextArgument!]"
        extra += ("input join__ContextArgument {\n  name: String!\n  type: String!\n  context: String!\n"
                  "  selection: join__FieldValue!\n}\nscalar join__FieldValue\n")
    return f'''
directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__field({field_args}) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
scalar join__FieldSet
{extra}'''


# name in spec -> (spec identity name, version, purpose, SDL of the directive and its types)
MERGED_DIRECTIVE_SPECS: dict[str, tuple[str, str, str | None, str]] = {
    "tag": ("tag", "v0.3", None,
            "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
            "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA"),
    "inaccessible": ("inaccessible", "v0.2", "SECURITY",
                     "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | "
                     "SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"),
    "authenticated": ("authenticated", "v0.1", "SECURITY",
                      "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"),
    "requiresScopes": ("requiresScopes", "v0.1", "SECURITY",
                       "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | "
                       "INTERFACE | SCALAR | ENUM\nscalar requiresScopes__Scope"),
    "policy": ("policy", "v0.1", "SECURITY",
               "directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | "
               "ENUM\nscalar policy__Policy"),
    "cost": ("cost", "v0.1", None,
             "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | "
             "OBJECT | SCALAR"),
    "listSize": ("cost", "v0.1", None,
                 "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], "
                 "requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION"),
    # @fromContext never reaches the supergraph (its arguments leave the field); its definition does.
    "context": ("context", "v0.1", "SECURITY",
                "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION\n"
                "directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION\n"
                "scalar context__ContextFieldValue"),
}


def spec_links(used: list[str]) -> list[SApplied]:
    """One `@link` per spec whose directives some subgraph applies, in order of first use."""
    links: list[SApplied] = []
    specs = list(dict.fromkeys(MERGED_DIRECTIVE_SPECS[name][0] for name in used))
    for spec in specs:
        names = [n for n, (s, *_rest) in MERGED_DIRECTIVE_SPECS.items() if s == spec and n in used]
        if not names:
            continue
        _, version, purpose, _sdl = MERGED_DIRECTIVE_SPECS[names[0]]
        args = [("url", gql_string(f"https://specs.apollo.dev/{spec}/{version}"))]
        imports = [n for n in names if n != spec]
        if imports:
            args.append(("import", "[" + ", ".join(gql_string("@" + n) for n in imports) + "]"))
        if purpose:
            args.append(("for", purpose))
        links.append(SApplied("link", args))
    return links


def definitions_from_sdl(sdl: str) -> tuple[list[SDirectiveDef], list[SType]]:
    directives: list[SDirectiveDef] = []
    types: list[SType] = []
    for node in parse(sdl).definitions:
        if isinstance(node, DirectiveDefinitionNode):
            directives.append(SDirectiveDef(
                name=node.name.value,
                args={a.name.value: SArg(a.name.value, print_ast(a.type),
                                         print_ast(a.default_value) if a.default_value else None)
                      for a in node.arguments or ()},
                locations=[loc.value for loc in node.locations],
                repeatable=node.repeatable,
            ))
        elif isinstance(node, ScalarTypeDefinitionNode):
            types.append(SType(node.name.value, "SCALAR"))
        elif isinstance(node, EnumTypeDefinitionNode):
            types.append(SType(node.name.value, "ENUM", values={
                v.name.value: SEnumValue(v.name.value, description=v.description.value if v.description else None)
                for v in node.values or ()}))
        elif isinstance(node, InputObjectTypeDefinitionNode):
            types.append(SType(node.name.value, "INPUT_OBJECT", fields={
                f.name.value: SField(f.name.value, print_ast(f.type)) for f in node.fields or ()}))
    return directives, types
