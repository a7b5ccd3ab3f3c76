"""The currency subgraph's Federation 2 schema."""

from __future__ import annotations

import strawberry

from subgraphs.common.errors import SafeErrors

from .graphql_types import Merchant, Municipality, Resident
from .resolvers import Mutation, Query

schema = strawberry.federation.Schema(query=Query, mutation=Mutation, types=[Municipality, Resident, Merchant],
                                      extensions=[SafeErrors])
