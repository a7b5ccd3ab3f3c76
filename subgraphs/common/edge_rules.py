"""Authorization the gateway enforces at the edge, declared where the field is defined.

`@authenticated` and `@requiresScopes` in a subgraph's SDL are composed into the supergraph, and the gateway
prunes a refused field before planning, so the request never reaches the subgraph (issue 10, finding 12). The
subgraph's own checks stay as the second line: they also hold for a caller that reaches the subgraph directly,
and they add what a scope cannot say (the municipality, the person's relation to the data).
"""

from __future__ import annotations

from strawberry.federation.schema_directives import Authenticated, RequiresScopes

AUTHENTICATED = [Authenticated()]


def requires_any_scope(*scopes: str) -> list:
    """Directives for a field every caller of which must hold one of `scopes` (`[[a], [b]]`: a OR b)."""
    if not scopes:
        raise ValueError("name at least one scope")
    return [Authenticated(), RequiresScopes(scopes=[[scope] for scope in scopes])]
