"""Rate limits as a plugin: a token bucket per caller, weighted by the operation's estimated cost.

At the `operation` hook, after demand control (which notes the estimate in `state.notes["cost"]`): a
signed-in caller draws from the bucket of its principal (issuer + subject), an anonymous one from the
bucket of its client address. In process by default; shared by every replica through Redis when
`[rate_limit] redis_url` is set (gateway/traffic/rate_limit.py). Refused: HTTP 429, `Retry-After`, and a
GraphQL error `RATE_LIMITED`.

A request another plugin will answer without running the plan (`CHEAP_ANSWER_NOTE`: a response-cache hit, an
identical request in flight to follow) costs the subgraphs nothing and is charged `minimum_weight`. A would-be
follower whose leader finished before it could join runs the plan itself: at `execution_start` (after the
coalescing plugin's) it is charged the rest of its estimate, and refused then if the bucket cannot pay. Behind a proxy, the client address is the proxy's unless the server is
told to trust its forwarded headers (uvicorn's `--forwarded-allow-ips`, docs/operations.md).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from gateway.document import GraphQLRequestError
from gateway.plugins.demand_control import COST_NOTE
from gateway.plugins.protocol import OperationEvent, RequestState
from gateway.traffic.rate_limit import (CHEAP_ANSWER_NOTE, RateLimitKey, RateLimitSettings, make_rate_limiter, rate_limit_key,
                                        rate_limited_response)


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
        full = estimate.total if estimate is not None else 0
        cheap = state.notes.get(CHEAP_ANSWER_NOTE)
        await self._take(key, self.settings.minimum_weight if cheap else full)
        if cheap == "coalesced" and full > self.settings.minimum_weight:
            state.notes[self.name] = (key, full - self.settings.minimum_weight)   # owed if it runs the plan

    async def execution_start(self, state: RequestState) -> None:
        owed = state.notes.pop(self.name, None)
        if owed is not None and state.answer is None:
            await self._take(*owed)

    async def _take(self, key: RateLimitKey, weight: float) -> None:
        decision = await self.limiter.acquire(key, weight)
        if not decision.allowed:
            self.refused.labels(decision.limit_class).inc()
            status, headers, body = rate_limited_response(decision)
            raise GraphQLRequestError(body["errors"], status, headers)

    async def close(self) -> None:
        await self.limiter.close()
