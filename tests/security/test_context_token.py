from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc.jwk import ECKey

from auth.context_token import sign_context, verify_context
from auth.errors import AuthenticationError
from auth.gateway_keys import generate_signing_key, load_or_create_signing_key, public_jwks, public_key_source
from auth.principal import Principal

RESIDENT = Principal("res-282014-0001", "282014", frozenset({"resident"}), frozenset({"childcare:read"}), "card-tap", "https://idp.example")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def key() -> ECKey:
    return generate_signing_key()


def test_round_trip_keeps_every_principal_field(key):
    token = sign_context(RESIDENT, "childcare", key)
    assert verify_context(token, "kyodo-subgraph:childcare", public_jwks(key)) == RESIDENT


def test_claims_follow_the_contract(key):
    token = sign_context(RESIDENT, "kyodo-subgraph:safety", key)
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "ES256"
    assert claims["iss"] == "kyodo-gateway" and claims["aud"] == "kyodo-subgraph:safety"
    assert claims["exp"] - claims["iat"] == 60
    assert claims["scope"] == "childcare:read" and claims["roles"] == ["resident"]
    assert claims["muni"] == "282014" and claims["acr"] == "card-tap" and claims["sub"] == RESIDENT.subject


def test_wrong_audience_is_refused(key):
    token = sign_context(RESIDENT, "childcare", key)
    with pytest.raises(AuthenticationError, match="audience"):
        verify_context(token, "currency", public_jwks(key))


def test_expired_is_refused(key):
    token = sign_context(RESIDENT, "childcare", key, now=int(time.time()) - 120)
    with pytest.raises(AuthenticationError, match="expired"):
        verify_context(token, "childcare", public_jwks(key))


def test_forged_with_another_key_under_the_same_kid_is_refused(key):
    forger = ECKey.generate_key("P-256", parameters={"kid": key.kid}, private=True)
    token = sign_context(RESIDENT, "childcare", forger)
    with pytest.raises(AuthenticationError, match="signature"):
        verify_context(token, "childcare", public_jwks(key))


def test_forged_with_an_unknown_key_is_refused(key):
    token = sign_context(RESIDENT, "childcare", generate_signing_key())
    with pytest.raises(AuthenticationError, match="unknown key"):
        verify_context(token, "childcare", public_jwks(key))


def test_tampered_payload_is_refused(key):
    header, payload, signature = sign_context(RESIDENT, "childcare", key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["staff"]
    with pytest.raises(AuthenticationError, match="signature"):
        verify_context(f"{header}.{_b64(claims)}.{signature}", "childcare", public_jwks(key))


def test_unsigned_context_is_refused(key):
    claims = {"iss": "kyodo-gateway", "aud": "kyodo-subgraph:childcare", "sub": "x", "exp": int(time.time()) + 60}
    token = f"{_b64({'alg': 'none', 'kid': key.kid})}.{_b64(claims)}."
    with pytest.raises(AuthenticationError, match="none"):
        verify_context(token, "childcare", public_jwks(key))


def test_garbage_is_refused(key):
    for junk in ("", "abc", "a.b.c", "x" * 20000):
        with pytest.raises(AuthenticationError):
            verify_context(junk, "childcare", public_jwks(key))


def test_key_file_is_created_private_and_its_public_jwks_verifies(tmp_path):
    key_path = tmp_path / "gateway-context-key.json"
    key = load_or_create_signing_key(key_path)
    assert key_path.stat().st_mode & 0o077 == 0
    assert load_or_create_signing_key(key_path).kid == key.kid  # loaded, not regenerated
    jwks_path = tmp_path / "gateway-context-jwks.json"
    assert "d" not in json.loads(jwks_path.read_text())["keys"][0]
    token = sign_context(RESIDENT, "identity", key)
    assert verify_context(token, "identity", str(jwks_path)).subject == RESIDENT.subject


def test_file_source_picks_up_a_rotated_gateway_key(tmp_path, monkeypatch):
    key_path = tmp_path / "gateway-context-key.json"
    old = load_or_create_signing_key(key_path)
    source = str(tmp_path / "gateway-context-jwks.json")
    verify_context(sign_context(RESIDENT, "identity", old), "identity", source)  # caches the old JWKS
    key_path.unlink()
    new = load_or_create_signing_key(key_path)
    monkeypatch.setattr("auth.gateway_keys.RELOAD_INTERVAL_SECONDS", 0.0)
    assert verify_context(sign_context(RESIDENT, "identity", new), "identity", source).subject == RESIDENT.subject
    assert public_key_source(source).keys().get_by_kid(new.kid)


def test_missing_key_source_is_a_clear_refusal(tmp_path, key):
    token = sign_context(RESIDENT, "identity", key)
    with pytest.raises(AuthenticationError, match="could not be loaded"):
        verify_context(token, "identity", str(tmp_path / "absent.json"))


def test_failed_key_source_is_not_retried_on_every_call(tmp_path, key):
    token = sign_context(RESIDENT, "identity", key)
    missing = tmp_path / "later.json"
    with pytest.raises(AuthenticationError, match="could not be loaded"):
        verify_context(token, "identity", str(missing))
    missing.write_text(json.dumps(public_jwks(key)))
    with pytest.raises(AuthenticationError, match="retrying later"):
        verify_context(token, "identity", str(missing))  # within the back-off: not re-read


def test_malformed_jwks_file_is_a_clear_refusal(tmp_path, key):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keys": [{"kty": "EC", "crv": "P-256"}]}))
    with pytest.raises(AuthenticationError, match="could not be loaded"):
        verify_context(sign_context(RESIDENT, "identity", key), "identity", str(bad))
