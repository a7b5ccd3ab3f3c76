"""Under which names a supergraph spells the authorization directives.

A supergraph links each spec, e.g. `@link(url: "https://specs.apollo.dev/requiresScopes/v0.1",
for: SECURITY)`; `as: "scopes"` or `import: [{name: "@requiresScopes", as: "@scopes"}]`
renames the directive. Without any link (hand-written SDL) the plain names are used.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLSchema

from gateway.supergraph.links import linked_names

SPECS = ("authenticated", "requiresScopes", "policy")


@dataclass(frozen=True)
class DirectiveNames:
    authenticated: str = "authenticated"
    requires_scopes: str = "requiresScopes"
    policy: str = "policy"


def read_directive_names(schema: GraphQLSchema) -> DirectiveNames:
    # The same @link reading the supergraph loader uses for join/inaccessible/tag.
    nodes = [node for node in (schema.ast_node, *(schema.extension_ast_nodes or ())) if node is not None]
    names = linked_names((d for node in nodes for d in node.directives or ()), SPECS)
    return DirectiveNames(
        authenticated=names["authenticated"], requires_scopes=names["requiresScopes"], policy=names["policy"]
    )
