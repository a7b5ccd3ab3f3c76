"""The childcare subgraph's Federation 2 schema."""

from __future__ import annotations


from strawberry.tools import merge_types

from subgraphs.common.errors import SafeErrors
from subgraphs.common.federation_schema import FederationSchema
from subgraphs.common.operations import operations_query
from subgraphs.common.trial_api import trial_mutation

from .graphql_types import Child, ChildcareFacility, Municipality, Resident
from .resolvers import Mutation, Query

schema = FederationSchema(query=merge_types("Query", (Query, operations_query("childcare"))),
                          mutation=merge_types("Mutation", (Mutation, trial_mutation("childcare"))),
                          types=[Municipality, Resident, Child, ChildcareFacility],
                          extensions=[SafeErrors])
