"""GraphQL subscriptions through the gateway: the transports (WebSocket: websocket.py, SSE: sse.py),
credentials and limits, the service that plans and runs them, and the client of subgraph streams."""
