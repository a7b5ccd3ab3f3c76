"""The currency subgraph's Federation 2 schema."""

from __future__ import annotations


from subgraphs.common.errors import SafeErrors
from subgraphs.common.federation_schema import FederationSchema

from .graphql_types import Merchant, Municipality, Resident
from .resolvers import Mutation, Query

schema = FederationSchema(query=Query, mutation=Mutation, types=[Municipality, Resident, Merchant],
                                      extensions=[SafeErrors])
