"""GraphQL over server-sent events, graphql-sse's "distinct connections" mode: one subscription per
HTTP request (POST with a JSON body, or GET with the query string) whose Accept asks for
`text/event-stream`.

Each result is `event: next` with the JSON body as `data`; the end is `event: complete` with an
empty `data` line (what graphql-sse and GraphQL Yoga send, which EventSource needs). A comment line
is sent every `sse_keepalive_seconds` so idle proxies keep the stream. A request refused before its
first event (bad request, token, validation, limits) is answered as any GraphQL request is: a 4xx
with a JSON `errors` body, not a stream. The client closing the response ends the subscription and
the gateway's socket to the subgraph.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import StreamingResponse

from gateway.subscriptions.streaming import Framing, stream_chunks

EVENT_STREAM = "text/event-stream"
TRANSPORT = "sse"


def wants_event_stream(accept: str | None) -> bool:
    """The client lists text/event-stream in Accept with a quality above 0."""
    if not accept:
        return False
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if pieces[0].lower() == EVENT_STREAM:
            quality = next((p.partition("=")[2] for p in pieces[1:] if p.partition("=")[0].strip() == "q"), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def next_event(body: dict[str, Any]) -> bytes:
    return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"


COMPLETE_EVENT = b"event: complete\ndata:\n\n"
KEEPALIVE = b":\n\n"
SSE_FRAMING = Framing(event=next_event, keepalive=KEEPALIVE, end=COMPLETE_EVENT)


def event_stream_response(subscription: Any, keepalive_seconds: float) -> StreamingResponse:
    """Stream one admitted subscription (gateway.subscriptions.service.OpenSubscription)."""
    return StreamingResponse(
        stream_chunks(subscription, SSE_FRAMING, keepalive_seconds),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"},
    )
