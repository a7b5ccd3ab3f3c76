from __future__ import annotations

import pytest

from tests.security.servers import serve_app
from tests.security.token_issuer import LocalIssuer


@pytest.fixture
def issuer():
    test_issuer = LocalIssuer()
    with serve_app(test_issuer.app()) as url:
        test_issuer.url = url
        yield test_issuer
