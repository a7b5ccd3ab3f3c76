"""strawberry's federation schema with a bound on `_entities`: one call carries at most
`KYODO_SUBGRAPH_MAX_ENTITIES` representations (the request context's `max_entities`); past it the whole call
is refused with ENTITIES_BATCH_TOO_LARGE before any reference is resolved.

Every subgraph builds its schema with `FederationSchema(...)` instead of `strawberry.federation.Schema(...)`.
"""

# No `from __future__ import annotations`: strawberry reads this resolver's annotations as real types.
from typing import Any

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from subgraphs.common.errors import ENTITIES_BATCH_TOO_LARGE, KyodoError
from subgraphs.common.serving_settings import ServingSettings


class FederationSchema(strawberry.federation.Schema):
    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        limit = getattr(info.context, "max_entities", None) or ServingSettings.max_entities
        if len(representations) > limit:
            raise KyodoError(f"_entities takes at most {limit} representations per call, got "
                             f"{len(representations)}; split the batch", ENTITIES_BATCH_TOO_LARGE,
                             limit=limit, received=len(representations))
        return super().entities_resolver(info, representations)
