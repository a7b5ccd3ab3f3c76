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


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """The dev IdP over real HTTP; yields (issuer URL, app)."""
    from auth.idp.app import create_idp_app
    from tests.security.servers import serve_factory

    state = tmp_path_factory.mktemp("idp")
    with serve_factory(lambda url: create_idp_app(url, state_dir=state, admin_token="test-admin")) as served:
        yield served
