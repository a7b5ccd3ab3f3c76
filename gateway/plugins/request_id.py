"""The request id: the client's (or a proxy's) `x-request-id` when it is short and plain, else a new
one; sent back on the response and to every subgraph, so one request can be followed across logs."""

from __future__ import annotations

import re
import uuid
from typing import Mapping

from gateway.plugins.protocol import HttpResponse, SubgraphRequest

REQUEST_ID_HEADER = "x-request-id"
# A client's id is kept only if it is short and plain, so it cannot forge log lines or carry data.
_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_from(headers: Mapping[str, str]) -> str:
    given = headers.get(REQUEST_ID_HEADER)
    if given and _ACCEPTED_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdPlugin:
    name = "request_id"

    async def subgraph_request(self, event: SubgraphRequest) -> None:
        event.headers[REQUEST_ID_HEADER] = event.state.request_id

    async def http_response(self, event: HttpResponse) -> None:
        event.headers[REQUEST_ID_HEADER] = event.state.request_id
