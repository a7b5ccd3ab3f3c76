"""The real threaded things subgraph and its supergraph, shared with tests/gateway_http."""

from tests.gateway_http.conftest import make_client, supergraph, things_server  # noqa: F401 (fixtures)
