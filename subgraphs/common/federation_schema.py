"""strawberry's federation schema with a bound on `_entities`: one call carries at most
`KYODO_SUBGRAPH_MAX_ENTITIES` representations (the request context's `max_entities`); past it the whole call
is refused with ENTITIES_BATCH_TOO_LARGE before any reference is resolved.

It also caches parsed and validated documents (the gateway sends the same few query texts again and again;
parsing and validating one cost more CPU than answering a small public read).

Every subgraph builds its schema with `FederationSchema(...)` instead of `strawberry.federation.Schema(...)`.
"""

# No `from __future__ import annotations`: strawberry reads this resolver's annotations as real types.
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from subgraphs.common.public_cache import InvalidateOnMutation
from subgraphs.common.errors import ENTITIES_BATCH_TOO_LARGE, KyodoError
from subgraphs.common.serving_settings import ServingSettings
from subgraphs.common.trial_marker import TrialMarker


DOCUMENT_CACHE_SIZE = 512


class FederationSchema(strawberry.federation.Schema):
    def __init__(self, *args: Any, extensions: Any = (), **kwargs: Any) -> None:
        # factories: a fresh extension per request, the LRU caches behind them live at module level
        cached = [lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
                  lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE), InvalidateOnMutation, TrialMarker]
        super().__init__(*args, extensions=[*cached, *extensions], **kwargs)

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        limit = getattr(info.context, "max_entities", None) or ServingSettings.max_entities
        if len(representations) > limit:
            raise KyodoError(f"_entities takes at most {limit} representations per call, got "
                             f"{len(representations)}; split the batch", ENTITIES_BATCH_TOO_LARGE,
                             limit=limit, received=len(representations))
        return super().entities_resolver(info, representations)
