"""Services calling a subgraph directly (subgraphs/common/service_callers.py): the issuer they are trusted from
is read from $KYODO_SERVICE_ISSUER and a bad value says so; a missing, foreign or broken token yields no
principal (never an exception). Accepting the grant relay's real token is tests/integration/test_grant_relay.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from subgraphs.common.service_callers import (
    SERVICE_ISSUER_ENV, ServiceCallers, ServiceCallerSettingsError, service_issuer_from_env,
)

KEYCLOAK = ('{"issuer": "https://id.example/realms/kyodo", "audience": "urn:kyodo:gateway", '
            '"claims": {"scopes": ["scp"], "roles": "roles"}}')


def test_unset_means_nobody_calls_directly():
    assert service_issuer_from_env({}) is None
    assert service_issuer_from_env({SERVICE_ISSUER_ENV: "  "}) is None


def test_an_issuer_with_its_claim_mapping():
    issuer = service_issuer_from_env({SERVICE_ISSUER_ENV: KEYCLOAK})
    assert issuer.issuer == "https://id.example/realms/kyodo" and issuer.audiences == ("urn:kyodo:gateway",)
    assert issuer.claims.scopes == ("scp",)


@pytest.mark.parametrize("value", ["not json", "[1]", '{"issuer": "https://id.example"}',
                                   '{"issuer": "https://id.example", "audience": "a", "algorithms": ["HS256"]}'])
def test_a_bad_value_names_the_variable(value):
    with pytest.raises(ServiceCallerSettingsError, match=SERVICE_ISSUER_ENV):
        service_issuer_from_env({SERVICE_ISSUER_ENV: value})


async def test_no_token_a_foreign_scheme_or_a_broken_token_is_no_principal():
    callers = ServiceCallers(service_issuer_from_env({SERVICE_ISSUER_ENV: KEYCLOAK}))
    try:
        assert await callers.principal(None) == (None, None)
        principal, why = await callers.principal("Basic a2V5OnNlY3JldA==")
        assert principal is None and "bearer" in why
        principal, why = await callers.principal("Bearer not.a.jwt")
        assert principal is None and why
    finally:
        await callers.close()


def test_kyodo_subgraph_refuses_to_start_on_a_bad_value(tmp_path):
    done = subprocess.run([sys.executable, "-m", "kyodo", "subgraph", "identity", "--port", "1"],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", SERVICE_ISSUER_ENV: "{nope",
                               "KYODO_IDENTITY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'i.sqlite'}"})
    assert done.returncode == 2, done.stderr
    assert SERVICE_ISSUER_ENV in done.stderr and "Traceback" not in done.stderr
