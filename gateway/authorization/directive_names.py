"""Under which names a supergraph spells the authorization directives.

A supergraph links each spec, e.g. `@link(url: "https://specs.apollo.dev/requiresScopes/v0.1",
for: SECURITY)`; `as: "scopes"` or `import: [{name: "@requiresScopes", as: "@scopes"}]`
renames the directive. Without any link (hand-written SDL) the plain names are used.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLSchema, value_from_ast_untyped

SPECS = ("authenticated", "requiresScopes", "policy")


@dataclass(frozen=True)
class DirectiveNames:
    authenticated: str = "authenticated"
    requires_scopes: str = "requiresScopes"
    policy: str = "policy"


def _spec_of(url: str) -> str | None:
    parts = [p for p in url.rstrip("/").split("/") if p]
    if len(parts) >= 2 and parts[-1].startswith("v") and parts[-2] in SPECS:
        return parts[-2]
    return None


def read_directive_names(schema: GraphQLSchema) -> DirectiveNames:
    names = {spec: spec for spec in SPECS}
    nodes = [schema.ast_node, *(schema.extension_ast_nodes or ())]
    for node in nodes:
        if node is None:
            continue
        for directive in node.directives or ():
            if directive.name.value not in ("link", "core"):
                continue
            args = {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}
            spec = _spec_of(str(args.get("url") or args.get("feature") or ""))
            if spec is None:
                continue
            if args.get("as"):
                names[spec] = str(args["as"])
            for imported in args.get("import") or ():
                if isinstance(imported, dict) and imported.get("name") == f"@{spec}" and imported.get("as"):
                    names[spec] = str(imported["as"]).lstrip("@")
    return DirectiveNames(
        authenticated=names["authenticated"], requires_scopes=names["requiresScopes"], policy=names["policy"]
    )
