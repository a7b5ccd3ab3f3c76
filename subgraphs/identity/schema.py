"""The identity subgraph's Federation 2 schema."""

from __future__ import annotations

from strawberry.tools import merge_types

from subgraphs.common.errors import SafeErrors
from subgraphs.common.federation_schema import FederationSchema
from subgraphs.common.operations import operations_query
from subgraphs.common.trial_api import trial_mutation

from .graphql_types import Municipality, Resident, Shelter
from .occupancy_subscription import OccupancySubscription
from .resolvers import Mutation, Query
from .service_links import ServiceLinkMutation
from .visitor_api import VisitorMutation, VisitorQuery

schema = FederationSchema(query=merge_types("Query", (Query, VisitorQuery, operations_query("identity"))),
                          mutation=merge_types("Mutation", (Mutation, VisitorMutation, ServiceLinkMutation,
                                                          trial_mutation("identity"))),
                          subscription=merge_types("Subscription", (OccupancySubscription,)),
                          types=[Municipality, Resident, Shelter], extensions=[SafeErrors])
