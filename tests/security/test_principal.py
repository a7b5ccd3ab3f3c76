from __future__ import annotations

import pytest

from auth.card_serial import hash_serial
from auth.errors import AuthenticationError
from auth.principal import ClaimMapping, normalize_municipality, principal_from_claims


def test_default_mapping_reads_scope_string_and_scp_list():
    principal = principal_from_claims(
        {"sub": "r-1", "muni": "282014", "roles": ["resident", "guardian"], "scope": "a b", "scp": ["c"], "acr": "card-tap"},
        ClaimMapping(),
        "https://idp",
    )
    assert principal.subject == "r-1"
    assert principal.municipality == "282014"
    assert principal.roles == {"resident", "guardian"}
    assert principal.scopes == {"a", "b", "c"}
    assert principal.assurance == "card-tap"
    assert principal.issuer == "https://idp"


def test_custom_mapping_reaches_nested_claims_and_adds_default_roles():
    mapping = ClaimMapping.from_mapping(
        {"municipality": "kyodo.city", "roles": "realm_access.roles", "scopes": "scp", "default_roles": ["vendor"]}
    )
    principal = principal_from_claims(
        {"sub": "c", "kyodo": {"city": "28210"}, "realm_access": {"roles": ["staff"]}, "scp": "x y", "scope": "ignored"},
        mapping,
        None,
    )
    assert principal.municipality == "282103"  # 5-digit form gains its check digit
    assert principal.roles == {"staff", "vendor"}
    assert principal.scopes == {"x", "y"}


def test_unknown_mapping_key_is_refused():
    with pytest.raises(ValueError, match="unknown claim mapping keys"):
        ClaimMapping.from_mapping({"subjekt": "sub"})


def test_missing_subject_is_an_error():
    with pytest.raises(ValueError, match="subject"):
        principal_from_claims({"scope": "a"}, ClaimMapping(), None)


@pytest.mark.parametrize("code,expected", [("282014", "282014"), ("282015", None), ("28222", "282227"), ("abc", None), (None, None)])
def test_municipality_codes_are_checked(code, expected):
    assert normalize_municipality(code) == expected


def test_hash_serial_is_keyed_normalized_and_never_the_serial(monkeypatch):
    assert hash_serial("0A:1B") == hash_serial(0xA1B) == hash_serial("0x00a1b")
    assert "a1b" not in hash_serial("a1b")
    before = hash_serial("a1b")
    monkeypatch.setenv("KYODO_CARD_PEPPER", "another pepper")
    assert hash_serial("a1b") != before
    with pytest.raises(ValueError):
        hash_serial("not hex")


def test_authentication_error_carries_a_bearer_challenge():
    error = AuthenticationError('the token has expired "now"')
    assert error.status == 401
    assert error.www_authenticate.startswith('Bearer error="invalid_token"')
    assert '"now"' not in error.www_authenticate
    assert error.to_graphql_error()["extensions"]["code"] == "UNAUTHENTICATED"
