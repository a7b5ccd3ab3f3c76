"""Traffic engines: demand control, rate limits, coalescing, the public response cache.

Each module is standalone (plain inputs: graphql-core AST nodes, the `Supergraph`, dicts) with its own
frozen settings dataclass, so a stage plugin wires it in with a few lines; each module's docstring says
which stage hook calls it and with what.

| module | engine |
| --- | --- |
| `cost_model.py` | `@cost` / `@listSize` read from a supergraph (the `https://specs.apollo.dev/cost/v0.1` link) |
| `cost.py` | static cost estimate of an operation, its refusal error (`COST_ESTIMATED_TOO_EXPENSIVE`) |
| `actual_cost.py` | cost counted from a response, for the metric |
| `rate_limit.py` | token buckets per principal / client address, in process or shared through Redis |
| `coalescing.py` | single-flight for identical in-flight subgraph fetches and whole operations |
| `cache_hints.py` | cache hints per type/field and the TTL of an operation |
| `response_cache.py` | bounded TTL cache of public responses (in process or Redis), Cache-Control value |
"""
