"""CSRF prevention as Apollo Router does it ([csrf]).

A browser sends a cross-site "simple" request (GET, or POST with a form or text/plain body)
without a CORS preflight, so the server would act before CORS could refuse. A request is let
through only if it cannot be simple: it has a Content-Type other than the three simple ones, or
it carries one of the configured headers (which a simple request may not set).
"""

from __future__ import annotations

from typing import Any

from gateway.document import GraphQLRequestError
from gateway.plugins.protocol import RequestState
from gateway.settings import CsrfSettings

SIMPLE_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})

CSRF_MESSAGE = (
    "This request was refused as a possible cross-site request forgery (CSRF): send it with a "
    "Content-Type such as application/json, or with one of these headers: {headers}."
)


def is_preflighted(headers: Any, required_headers: tuple[str, ...]) -> bool:
    content_types = headers.getlist("content-type") if hasattr(headers, "getlist") else [headers.get("content-type")]
    for content_type in content_types:
        if content_type is None:
            continue
        essence = content_type.split(";", 1)[0].strip().lower()
        if essence not in SIMPLE_CONTENT_TYPES:
            return True
    return any(name in headers for name in required_headers)


class CsrfPlugin:
    name = "csrf"

    def __init__(self, settings: CsrfSettings) -> None:
        self.required_headers = settings.required_headers
        self.message = CSRF_MESSAGE.format(headers=", ".join(settings.required_headers))

    async def http_request(self, state: RequestState) -> None:
        if not is_preflighted(state.headers, self.required_headers):
            raise GraphQLRequestError.single(self.message, "CSRF_PREVENTED")
