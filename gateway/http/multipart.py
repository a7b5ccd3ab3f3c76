"""Incremental delivery over HTTP: an `IncrementalResponse` as a `multipart/mixed` body.

Each payload is one part (`content-type: application/json; charset=utf-8`), and the delimiter after
it is written at once with it, so a client (Apollo Client, GraphiQL's fetcher, meros) can read the
part without waiting for the next one; the last part ends with the closing delimiter. The boundary
is `-` (JSON never holds a line that starts with `---`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from gateway.executor.incremental import IncrementalResponse

BOUNDARY = "-"
MULTIPART_MEDIA_TYPE = f'multipart/mixed; boundary="{BOUNDARY}"; deferSpec=20220824'
_PART_HEADERS = b"content-type: application/json; charset=utf-8\r\n\r\n"
_DELIMITER = b"\r\n--" + BOUNDARY.encode()
_CLOSE = _DELIMITER + b"--\r\n"


def _part(payload: dict[str, Any]) -> bytes:
    end = _DELIMITER if payload.get("hasNext") else _CLOSE
    return b"\r\n" + _PART_HEADERS + orjson.dumps(payload) + end


async def multipart_body(response: IncrementalResponse) -> AsyncIterator[bytes]:
    """The body's chunks: the initial payload, then each later one as it comes."""
    parts = response.subsequent
    try:
        yield _DELIMITER[2:] + _part(dict(response))
        async for payload in parts.payloads():
            yield _part(payload)
    finally:
        await parts.aclose()  # (the client went away: the parts still running stop)
