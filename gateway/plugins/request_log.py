"""One log line per GraphQL request on the `kyodo.gateway.requests` logger ([telemetry] request_log).

Fields: request id, operation name and type, status, duration, subgraph calls, and whatever other
plugins put in `state.log_fields` (the tracing plugin adds trace_id). Never the query text,
variables, tokens or response data.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from gateway.plugins.protocol import HttpResponse
from gateway.settings import TelemetrySettings

REQUEST_LOGGER = "kyodo.gateway.requests"

log = logging.getLogger(REQUEST_LOGGER)


class RequestLogPlugin:
    name = "request_log"

    def __init__(self, settings: TelemetrySettings) -> None:
        self.log_format = settings.log_format

    async def http_response(self, event: HttpResponse) -> None:
        if event.outcome == "other" or not log.isEnabledFor(logging.INFO):
            return
        state = event.state
        fields: dict[str, Any] = {
            "request_id": state.request_id,
            "operation_name": state.operation_name,
            "operation_type": state.operation_type,
            "status": event.status,
            "duration_ms": round((time.perf_counter() - state.started) * 1000, 2),
            "subgraph_calls": state.subgraph_calls,
            **state.log_fields,
        }
        log.info("%s", format_log_line(fields, self.log_format))


def format_log_line(fields: dict[str, Any], log_format: str) -> str:
    if log_format == "json":
        return orjson.dumps({"event": "graphql_request", **fields}).decode()
    return " ".join(f"{key}={'-' if value is None else value}" for key, value in fields.items())


def configure_request_log(settings: TelemetrySettings) -> None:
    """For `kyodo serve`: the request lines go to stderr as they are (text or one JSON object)."""
    logger = logging.getLogger(REQUEST_LOGGER)
    if not settings.request_log or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
