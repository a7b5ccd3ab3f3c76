"""Headers on every GraphQL response: `X-Content-Type-Options: nosniff` always, and
`Cache-Control: no-store` whenever the answer may carry personal data, i.e. the caller is
authenticated or sent credentials (a shared cache or the browser's disk must never keep it).
Anonymous open-data answers stay cacheable by whoever the operator puts in front."""

from __future__ import annotations

from gateway.plugins.protocol import HttpResponse


class ResponseHeadersPlugin:
    name = "response_headers"

    async def http_response(self, event: HttpResponse) -> None:
        headers = event.headers
        headers["X-Content-Type-Options"] = "nosniff"
        state = event.state
        if state.principal is not None or "authorization" in state.headers or "cookie" in state.headers:
            headers["Cache-Control"] = "no-store"
