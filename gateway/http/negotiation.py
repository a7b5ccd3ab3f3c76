"""Content negotiation for GraphQL over HTTP: which media type answers, and whether HTML is wanted."""

from __future__ import annotations

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        quality = 1.0
        for parameter in pieces[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def response_media_type(accept: str | None) -> str:
    """`application/graphql-response+json` when the client accepts it at least as much as
    `application/json`; `application/json` otherwise (also with no Accept header, as the spec's
    legacy rule says)."""
    if not accept:
        return APPLICATION_JSON
    ranges = _media_ranges(accept)
    graphql_q = max((q for m, q in ranges if m == GRAPHQL_RESPONSE_JSON), default=0.0)
    json_q = max((q for m, q in ranges if m == APPLICATION_JSON), default=0.0)
    if graphql_q > 0 and graphql_q >= json_q:
        return GRAPHQL_RESPONSE_JSON
    return APPLICATION_JSON


def prefers_html(accept: str | None) -> bool:
    """A browser navigating to the endpoint (it lists text/html explicitly)."""
    if not accept:
        return False
    return any(media == "text/html" and q > 0 for media, q in _media_ranges(accept))


def accepts_multipart(accept: str | None) -> bool:
    """Whether the client reads `multipart/mixed` incremental delivery (Apollo's `deferSpec=20220824`;
    a `multipart/mixed` without deferSpec, as GraphiQL and the over-HTTP draft send it, is taken too)."""
    if not accept:
        return False
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if pieces[0].lower() != "multipart/mixed":
            continue
        parameters = {}
        for parameter in pieces[1:]:
            name, _, value = parameter.partition("=")
            parameters[name.strip().lower()] = value.strip().strip('"')
        try:
            if float(parameters.get("q", "1")) <= 0:
                continue
        except ValueError:
            continue
        if "deferspec" not in parameters and "subscriptionspec" in parameters:
            continue  # a client that reads subscription events only
        if parameters.get("deferspec", "20220824") == "20220824":
            return True
    return False
