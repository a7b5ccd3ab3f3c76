"""Supergraph: load a Federation 2 supergraph SDL into a typed ownership model and derive the API schema."""

from __future__ import annotations

from gateway.supergraph.loader import SupergraphError, load_supergraph
from gateway.supergraph.model import (
    EntityKey,
    FieldOwnership,
    FieldPresence,
    SubgraphInfo,
    Supergraph,
    TypeOwnership,
)

__all__ = [
    "EntityKey",
    "FieldOwnership",
    "FieldPresence",
    "SubgraphInfo",
    "Supergraph",
    "SupergraphError",
    "TypeOwnership",
    "load_supergraph",
]
