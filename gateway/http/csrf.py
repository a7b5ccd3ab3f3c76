"""CSRF prevention as Apollo Router does it.

A browser sends a cross-site "simple" request (GET, or POST with a form or text/plain body)
without a CORS preflight, so the server would act before CORS could refuse. A request is let
through only if it cannot be simple: it has a Content-Type other than the three simple ones, or
it carries one of the configured headers (which a simple request may not set).
"""

from __future__ import annotations

from starlette.datastructures import Headers

SIMPLE_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})

CSRF_MESSAGE = (
    "This request was refused as a possible cross-site request forgery (CSRF): send it with a "
    "Content-Type such as application/json, or with one of these headers: {headers}."
)


def is_preflighted(headers: Headers, required_headers: tuple[str, ...]) -> bool:
    content_types = headers.getlist("content-type")
    for content_type in content_types:
        essence = content_type.split(";", 1)[0].strip().lower()
        if essence not in SIMPLE_CONTENT_TYPES:
            return True
    return any(name in headers for name in required_headers)
