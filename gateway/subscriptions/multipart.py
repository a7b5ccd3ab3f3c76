"""Apollo's multipart HTTP protocol for subscriptions: what Apollo Client, Apollo Kotlin and iOS speak, and
what Apollo Router and Hive Router both offer clients. A POST (or GET) whose Accept lists
`multipart/mixed` with a `subscriptionSpec` parameter is answered
`multipart/mixed;boundary="graphql";subscriptionSpec=1.0`, one JSON part per message:

- `{}` first (so the client sees the stream open) and then as a heartbeat every `multipart_heartbeat_seconds`;
- `{"payload": <result>}` per event (the result as a query's: data, errors, extensions);
- `{"payload": null, "errors": [...]}` when the stream itself fails (the subgraph dropped, the token expired),
  then the end; `--graphql--` closes the body.

A request refused before any event is answered as any GraphQL request (4xx, JSON errors).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import StreamingResponse

from gateway.subscriptions.service import STREAM_ENDING_CODES
from gateway.subscriptions.streaming import Framing, stream_chunks

TRANSPORT = "multipart"
CONTENT_TYPE = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0'
# Every part is followed at once by the boundary, so a client sees it complete without waiting for the next
# one (the first chunk also opens with a boundary; the last adds "--", closing the body).
_BOUNDARY = b"\r\n--graphql"
_HEADERS = b"\r\nContent-Type: application/json\r\n\r\n"
_HEARTBEAT = _HEADERS + b"{}" + _BOUNDARY


def wants_multipart_subscription(accept: str | None) -> bool:
    """Accept lists multipart/mixed with a subscriptionSpec parameter (not @defer's deferSpec)."""
    if not accept:
        return False
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if pieces[0].lower() == "multipart/mixed" and any(
                p.partition("=")[0].strip().lower() == "subscriptionspec" for p in pieces[1:]):
            return True
    return False


def _event(body: dict[str, Any]) -> bytes:
    errors = body.get("errors") or ()
    if body.get("data") is None and errors and all(
            (e.get("extensions") or {}).get("code") in STREAM_ENDING_CODES for e in errors):
        # the stream failed, not the event's execution: a transport-level error, as Apollo's protocol has it
        return _HEADERS + orjson.dumps({"payload": None, "errors": list(errors)}) + _BOUNDARY
    return _HEADERS + orjson.dumps({"payload": body}) + _BOUNDARY


MULTIPART_FRAMING = Framing(event=_event, keepalive=_HEARTBEAT, end=b"--\r\n", start=_BOUNDARY + _HEARTBEAT)


def multipart_response(subscription: Any, heartbeat_seconds: float) -> StreamingResponse:
    return StreamingResponse(
        stream_chunks(subscription, MULTIPART_FRAMING, heartbeat_seconds),
        headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
