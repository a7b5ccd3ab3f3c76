"""The real supergraph of the four municipal subgraphs, composed in process from each one's printed SDL
(the same text `_service { sdl }` serves), as `kyodo compose` would compose it."""

from __future__ import annotations

import functools
import importlib

from gateway.composition import SubgraphSource, compose
from gateway.supergraph import Supergraph, load_supergraph

SUBGRAPHS = ("childcare", "safety", "currency", "identity")


@functools.cache
def kyodo_supergraph() -> Supergraph:
    sources = [SubgraphSource(name, f"http://127.0.0.1/{name}/graphql",
                              importlib.import_module(f"subgraphs.{name}.schema").schema.as_str())
               for name in SUBGRAPHS]
    return load_supergraph(compose(sources))
