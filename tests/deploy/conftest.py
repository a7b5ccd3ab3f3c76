# The gateway tests' things subgraph and its supergraph, for the proxy topology test.
from tests.gateway_http.conftest import supergraph, things_server  # noqa: F401
