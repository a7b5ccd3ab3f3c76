"""Traffic engines: demand control, rate limits, coalescing, the public response cache.

Each module is standalone (plain inputs: graphql-core AST nodes, the `Supergraph`, dicts) with its own
frozen settings dataclass, so a stage plugin wires it in with a few lines; each module's docstring says
which stage hook calls it and with what.

| module | engine |
| --- | --- |
| `operation_parts.py` | the operation and fragments of a validated document (what every engine takes) |
| `cost_model.py` | `@cost` / `@listSize` read from a supergraph (the `https://specs.apollo.dev/cost/v0.1` link) |
| `cost.py` | static cost estimate of an operation, its refusal error (`COST_ESTIMATED_TOO_EXPENSIVE`) |
| `actual_cost.py` | cost counted from a response, for the metric |
| `rate_limit.py` | token buckets per principal / client address, in process or shared through Redis |
| `coalescing.py` | single-flight for identical in-flight subgraph fetches and whole operations |
| `selections.py` | the fields a selection set selects on one object type (shared by the three walks above and below) |
| `cache_hints.py` | cache hints per type/field and the TTL of an operation |
| `response_cache.py` | bounded TTL cache of public responses (in process or Redis), Cache-Control value |

Order in one request (each step a few lines in a stage plugin; every function is pure or async):

1. after validation and authorization: `operation, fragments = operation_parts(document, operation_name)`
2. `estimate = estimate_cost(supergraph, operation, fragments, variables, settings.demand_control)`;
   `estimate.too_expensive` -> answer `{"errors": [cost_refusal_error(estimate)]}`, nothing fetched
3. `policy = cache_policy(supergraph, operation, fragments, settings.response_cache.hint_settings)`;
   if cacheable (and authorization pruned nothing): `hit = await cache.get(response_cache_key(...))`
4. `decision = await limiter.acquire(rate_limit_key(...), minimum_weight if hit else estimate.total)`;
   refused -> `rate_limited_response(decision)` (429, Retry-After)
5. a hit is answered with `Cache-Control: cache_control_header(policy, hit.remaining)`; otherwise
   `await OPERATION_FLIGHTS.run(operation_key(...), execute)` with a `CoalescingFetcher` inside
6. `await cache.store(key, response, policy.max_age)`; header `cache_control_header(policy)` (else
   `no-store`); `actual_cost(...)` and `estimate.total` to the metrics
"""
