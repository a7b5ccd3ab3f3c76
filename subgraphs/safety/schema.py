"""The safety subgraph's Federation 2 schema."""

from __future__ import annotations


from strawberry.tools import merge_types

from subgraphs.common.errors import SafeErrors
from subgraphs.common.federation_schema import FederationSchema
from subgraphs.common.operations import operations_query
from subgraphs.common.trial_api import trial_mutation

from .graphql_types import Aed, EvacuationSpace, FloodSensor, RiverGauge, Shelter
from .municipality_type import Municipality
from .mutations import Mutation
from .queries import Query
from .subscriptions import Subscription
from .watch_tag_types import Resident

schema = FederationSchema(
    query=merge_types("Query", (Query, operations_query("safety"))),
    mutation=merge_types("Mutation", (Mutation, trial_mutation("safety"))),
    subscription=Subscription,
    types=[EvacuationSpace, Shelter, Aed, FloodSensor, RiverGauge, Municipality, Resident],
    extensions=[SafeErrors],
)
