"""The childcare subgraph's Federation 2 schema."""

from __future__ import annotations

import strawberry

from subgraphs.common.errors import SafeErrors

from .graphql_types import Child, ChildcareFacility, Municipality, Resident
from .resolvers import Mutation, Query

schema = strawberry.federation.Schema(query=Query, mutation=Mutation,
                                      types=[Municipality, Resident, Child, ChildcareFacility],
                                      extensions=[SafeErrors])
