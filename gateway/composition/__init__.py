"""Compose Federation subgraphs into an Apollo Federation 2 supergraph SDL (`kyodo compose`)."""

from __future__ import annotations

from gateway.composition.compose import compose
from gateway.composition.config import compose_from_config, compose_from_config_async
from gateway.composition.errors import CompositionError
from gateway.composition.source import SubgraphSource

__all__ = ["CompositionError", "SubgraphSource", "compose", "compose_from_config", "compose_from_config_async"]
