"""Subscriptions over WebSocket (graphql-transport-ws) on a subgraph's `/graphql`.

- Who: the upgrade request carries the same `Kyodo-Context` header as a POST and is read by the same code
  (`context.request_context`). No header: anonymous, as for a POST (public subscriptions answer). A header that
  does not verify (forged, expired, for another subgraph): the connection is refused at `connection_init`
  (close 4403), where a POST would be answered as anonymous — a long-lived connection is not kept open on a
  credential that failed. The token is checked once, when the connection opens.
- What: only subscription operations. Queries and mutations go over HTTP, where the request's audit records
  are written before anything is answered (`app.SubgraphGraphQL.execute_operation`); over the socket they
  are answered with an error.
- How much: `KYODO_SUBGRAPH_SUBSCRIPTIONS_PER_CONNECTION` operations per connection (strawberry's limit),
  bounded queues and a process-wide cap in the broker (`events`).
- Each event is delivered as a fresh read: the connection's request-scoped loaders are dropped before the
  resolvers run (`events_for`), so a long-lived connection never answers from the first event's loads.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError, OperationType, parse
from graphql.error import GraphQLSyntaxError
from graphql.utilities import get_operation_ast
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from subgraphs.common.errors import KyodoError
from subgraphs.common.events import BrokerUnavailable, SubscriberTooSlow

log = logging.getLogger("kyodo.subgraphs.subscriptions")

SUBSCRIPTION_PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)   # and no HTTP streaming transport
ONLY_SUBSCRIPTIONS = "SUBSCRIPTIONS_ONLY"


def refuse_bad_context(context: Any) -> None:
    """Fail closed: a context token that was presented and refused closes the connection (4403)."""
    if getattr(context, "context_error", None):
        raise ConnectionRejectionError()


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws that runs subscription operations only."""

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):   # the client went away while an event was being sent
            log.debug("subscriber disconnected while an event was sent")
            return
        await super().handle_task_exception(error)

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload") if isinstance(message, dict) else None
        payload = payload if isinstance(payload, dict) else {}
        query, name = payload.get("query"), payload.get("operationName")
        if isinstance(query, str) and self.connection_acknowledged and message.get("id") not in self.operations:
            try:
                operation = get_operation_ast(parse(query), name if isinstance(name, str) else None)
            except GraphQLSyntaxError:
                operation = None   # strawberry closes the connection with the syntax error
            if operation is not None and operation.operation != OperationType.SUBSCRIPTION:
                error = GraphQLError("only subscriptions are served over WebSocket; send queries and mutations "
                                     "over HTTP", extensions={"code": ONLY_SUBSCRIPTIONS})
                await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
                return
        await super().handle_subscribe(message)


def drop_request_loaders(context: Any) -> None:
    """Forget the connection's request-scoped loaders (their cached rows), so the next event reads afresh."""
    extras = getattr(context, "extras", None)
    if isinstance(extras, dict):
        for key in [key for key in extras if isinstance(key, tuple) and key and key[0] == "loader"]:
            del extras[key]


async def events_for(info: Any, topic: str) -> AsyncIterator[dict[str, Any]]:
    """The payloads published on `topic`, for one subscription resolver; each is a fresh read scope.

    The subscription completes when its subscriber fell too far behind or the broker was lost (the client
    subscribes again)."""
    database = getattr(info.context, "database", None)
    broker = getattr(database, "events", None)
    if broker is None:
        raise KyodoError("subscriptions are not available on this service", "SUBSCRIPTIONS_UNAVAILABLE")
    async with broker.subscribe(topic) as subscription:
        try:
            async for payload in subscription:
                drop_request_loaders(info.context)
                yield payload
        except (SubscriberTooSlow, BrokerUnavailable):
            return
