"""auth/trust.py: what an issuer may vouch for, subject namespacing and links, and the configuration rules."""

from __future__ import annotations

import json
import logging

import pytest

from auth.context_token import sign_context, verify_context
from auth.gateway_keys import generate_signing_key, public_jwks
from auth.principal import ClaimMapping, Principal, principal_from_claims
from auth.resource_server import ResourceServer, TrustedIssuer
from auth.trust import IssuerTrust, TrustConfigError

VENDOR = IssuerTrust.from_mapping({"name": "vendor", "municipalities": [], "roles": ["vendor"],
                                   "scopes": ["currency:*"], "links": {"acct-7": "r-111"}}, "https://b")
CITY = IssuerTrust.from_mapping({"name": "himeji", "municipalities": ["282014"], "roles": ["staff", "resident"],
                                 "scopes": ["childcare:*"]}, "https://himeji")
HOME = IssuerTrust.from_mapping({"name": "yabu", "subjects": "resident-ids", "municipalities": ["*"],
                                 "roles": ["*"], "scopes": ["*"]}, "https://yabu")


def claims_principal(**claims) -> Principal:
    return principal_from_claims({"sub": "r-111", **claims}, ClaimMapping(), "https://b")


@pytest.mark.parametrize("trust, sub, expected", [
    (VENDOR, "r-111", "vendor#r-111"),        # another issuer's resident id means nothing here
    (VENDOR, "acct-7", "r-111"),              # ... unless the city linked the account on purpose
    (CITY, "r-111", "himeji#r-111"),
    (HOME, "r-111", "r-111"),
])
def test_subjects_are_namespaced_by_issuer_unless_linked(trust, sub, expected):
    assert trust.resolve_subject(sub) == expected


def test_home_issuer_subject_cannot_impersonate_a_namespaced_principal():
    with pytest.raises(ValueError, match="may not contain"):
        HOME.resolve_subject("vendor#r-111")


def test_everything_beyond_the_issuers_trust_is_dropped_and_logged(caplog):
    principal = claims_principal(muni="282014", roles=["staff", "vendor"], scope="childcare:read currency:merchant")
    with caplog.at_level(logging.WARNING, logger="kyodo.auth.trust"):
        limited = VENDOR.apply(principal)
    assert limited.subject == "vendor#r-111" and limited.issuer_subject == "r-111"
    assert limited.municipality is None
    assert limited.roles == {"vendor"}
    assert limited.scopes == {"currency:merchant"}
    line = caplog.records[-1].getMessage()
    assert "municipality 282014" in line and "role staff" in line and "scope childcare:read" in line


def test_city_issuer_keeps_its_own_staff_but_not_another_citys():
    own = CITY.apply(claims_principal(muni="282014", roles=["staff"], scope="childcare:read"))
    assert own.municipality == "282014" and own.roles == {"staff"} and own.scopes == {"childcare:read"}
    other = CITY.apply(claims_principal(muni="282103", roles=["staff"], scope="childcare:read"))
    # the municipality goes, and staff (meaningless without it) goes with it
    assert other.municipality is None and "staff" not in other.roles


def test_within_trust_nothing_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="kyodo.auth.trust"):
        HOME.apply(claims_principal(muni="282014", roles=["resident"], scope="childcare:read"))
    assert not caplog.records


def issuer(url: str, trust: dict | None) -> dict:
    data = {"issuer": url, "audience": "urn:kyodo:gateway", "jwks_uri": url + "/jwks"}
    if trust is not None:
        data["trust"] = trust
    return data


def test_a_sole_issuer_needs_no_trust_table():
    ResourceServer([TrustedIssuer.from_mapping(issuer("https://a", None))])


def test_two_issuers_each_need_a_trust_table():
    with pytest.raises(TrustConfigError, match="https://b has no"):
        ResourceServer([TrustedIssuer.from_mapping(issuer("https://a", {"name": "a", "subjects": "resident-ids"})),
                        TrustedIssuer.from_mapping(issuer("https://b", None))])


def test_only_one_issuer_may_issue_resident_ids():
    with pytest.raises(TrustConfigError, match="only one issuer"):
        ResourceServer([TrustedIssuer.from_mapping(issuer("https://a", {"name": "a", "subjects": "resident-ids"})),
                        TrustedIssuer.from_mapping(issuer("https://b", {"name": "b", "subjects": "resident-ids"}))])


@pytest.mark.parametrize("trust, message", [
    ({"subjects": "namespaced"}, "needs trust.name"),
    ({"name": "has space"}, "needs trust.name"),
    ({"name": "b", "subjects": "anything"}, "must be"),
    ({"name": "b", "rolez": []}, "unknown trust key"),
    ({"name": "b", "roles": "vendor staff", "scopes": [1]}, "must be a list"),
])
def test_bad_trust_tables_are_refused(trust, message):
    with pytest.raises(TrustConfigError, match=message):
        IssuerTrust.from_mapping(trust, "https://b")


def test_links_file_is_read(tmp_path):
    path = tmp_path / "links.json"
    path.write_text(json.dumps({"acct-9": "r-999"}))
    trust = IssuerTrust.from_mapping({"name": "b", "links_file": str(path)}, "https://b")
    assert trust.resolve_subject("acct-9") == "r-999"


def test_context_token_carries_issuer_subject_client_and_methods():
    key = generate_signing_key()
    principal = VENDOR.apply(principal_from_claims(
        {"sub": "r-111", "client_id": "pos-1", "amr": ["pwd", "otp"], "acr": "password", "roles": ["vendor"]},
        ClaimMapping(), "https://b"))
    back = verify_context(sign_context(principal, "currency", key), "currency", public_jwks(key))
    assert back == principal
    assert (back.subject, back.issuer_subject, back.client_id, back.methods, back.issuer) == (
        "vendor#r-111", "r-111", "pos-1", ("otp", "pwd"), "https://b")
