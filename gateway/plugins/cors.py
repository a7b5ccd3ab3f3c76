"""CORS for an allow-list of web origins ([cors] allow_origins), with Starlette's CORSMiddleware.

Preflights (OPTIONS with Access-Control-Request-Method) are answered by the middleware before the
GraphQL endpoint: 200 with the allowed methods and headers for a listed origin, 400 for any other.
Only GET and POST are offered. With no origin listed nothing is installed, and a cross-origin
browser gets no CORS headers (same-origin pages, such as the playground, need none).
"""

from __future__ import annotations

from typing import Any

from gateway.settings import CorsSettings


class CorsPlugin:
    name = "cors"

    def __init__(self, settings: CorsSettings) -> None:
        self.settings = settings

    def install(self, app: Any) -> None:
        from starlette.middleware.cors import CORSMiddleware

        cors = self.settings
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors.allow_origins),
            allow_methods=["GET", "POST"],
            allow_headers=list(cors.allow_headers),
            allow_credentials=cors.allow_credentials,
            expose_headers=list(cors.expose_headers),
            max_age=cors.max_age_seconds,
        )
