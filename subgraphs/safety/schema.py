"""The safety subgraph's Federation 2 schema."""

from __future__ import annotations


from subgraphs.common.errors import SafeErrors
from subgraphs.common.federation_schema import FederationSchema

from .graphql_types import Aed, EvacuationSpace, FloodSensor, RiverGauge, Shelter
from .municipality_type import Municipality
from .mutations import Mutation
from .queries import Query
from .watch_tag_types import Resident

schema = FederationSchema(
    query=Query,
    mutation=Mutation,
    types=[EvacuationSpace, Shelter, Aed, FloodSensor, RiverGauge, Municipality, Resident],
    extensions=[SafeErrors],
)
