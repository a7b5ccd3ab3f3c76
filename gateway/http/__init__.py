"""The gateway's HTTP stage: GraphQL over HTTP, health, metrics, playground (`kyodo serve`)."""

from __future__ import annotations

from gateway.http.app import create_app

__all__ = ["create_app"]
