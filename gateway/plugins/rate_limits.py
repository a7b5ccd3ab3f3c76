"""Rate limits as a plugin: a token bucket per caller, weighted by the operation's estimated cost.

At the `operation` hook, after demand control (which notes the estimate in `state.notes["cost"]`): a
signed-in caller draws from the bucket of its principal (issuer + subject), an anonymous one from the
bucket of its client address. In process by default; shared by every replica through Redis when
`[rate_limit] redis_url` is set (gateway/traffic/rate_limit.py). Refused: HTTP 429, `Retry-After`, and a
GraphQL error `RATE_LIMITED`. Behind a proxy, the client address is the proxy's unless the server is
told to trust its forwarded headers (uvicorn's `--forwarded-allow-ips`, docs/operations.md).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from gateway.document import GraphQLRequestError
from gateway.plugins.demand_control import COST_NOTE
from gateway.plugins.protocol import OperationEvent
from gateway.traffic.rate_limit import RateLimitSettings, make_rate_limiter, rate_limit_key, rate_limited_response


class RateLimitPlugin:
    name = "rate_limit"

    def __init__(self, settings: RateLimitSettings, registry: CollectorRegistry | None = None) -> None:
        self.settings = settings
        self.limiter = make_rate_limiter(settings)
        self.refused = Counter("kyodo_gateway_rate_limited", "Requests refused by a rate limit", ["limit_class"],
                               registry=registry)

    async def operation(self, event: OperationEvent) -> None:
        state = event.state
        principal = state.principal
        key = rate_limit_key(getattr(principal, "issuer", None), getattr(principal, "subject", None), state.client,
                             state.operation_type or "query")
        estimate = state.notes.get(COST_NOTE)
        decision = await self.limiter.acquire(key, estimate.total if estimate is not None else 0)
        if not decision.allowed:
            self.refused.labels(decision.limit_class).inc()
            status, headers, body = rate_limited_response(decision)
            raise GraphQLRequestError(body["errors"], status, headers)

    async def close(self) -> None:
        await self.limiter.close()
