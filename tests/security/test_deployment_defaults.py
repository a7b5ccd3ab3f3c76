"""Issue 10, finding 10: safe deployment defaults — introspection off in the docker gateway config, production mode
refusing to start without the pepper and keys, no secret in a log line, database and key files created 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from auth import card_serial
from auth.production import ProductionConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD_PEPPER = "p" * 48


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_docker_gateway_config_turns_introspection_off_and_declares_issuer_trust():
    from gateway.security import SecuritySettings
    from gateway.settings import load_settings

    settings = load_settings(ROOT / "docker" / "config" / "gateway.toml")
    assert settings.introspection is False and settings.expose_query_plan is False
    issuers = SecuritySettings.of(settings).issuers
    assert issuers and all(issuer.trust is not None for issuer in issuers)


def test_production_refuses_a_missing_or_dev_pepper(monkeypatch):
    monkeypatch.setenv("KYODO_ENV", "production")
    monkeypatch.delenv("KYODO_CARD_PEPPER", raising=False)
    with pytest.raises(ProductionConfigError, match="KYODO_CARD_PEPPER"):
        card_serial.hash_serial("0a1b2c3d")
    for weak in (card_serial.DEV_CARD_PEPPER, "short"):
        monkeypatch.setenv("KYODO_CARD_PEPPER", weak)
        with pytest.raises(ProductionConfigError):
            card_serial.hash_serial("0a1b2c3d")
    monkeypatch.setenv("KYODO_CARD_PEPPER", GOOD_PEPPER)
    assert len(card_serial.hash_serial("0a1b2c3d")) == 64
    monkeypatch.delenv("KYODO_ENV")
    monkeypatch.delenv("KYODO_CARD_PEPPER")
    assert card_serial.hash_serial("0a1b2c3d")          # development keeps its default


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def _audit_keys(folder: Path) -> dict[str, str]:
    """Production audit keys (they are checked before the pepper): a chain key, a checkpoint key, a sink."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    chain, signer, sink = folder / "chain.key", folder / "checkpoint.pem", folder / "checkpoints"
    chain.write_text("ab" * 32 + "\n")
    signer.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    sink.mkdir()
    return {"KYODO_AUDIT_CHAIN_KEY_FILE": str(chain), "KYODO_AUDIT_CHECKPOINT_KEY_FILE": str(signer),
            "KYODO_AUDIT_CHECKPOINT_DIR": str(sink)}


def test_identity_refuses_to_start_in_production_without_its_pepper(tmp_path):
    start = "from subgraphs.identity.app import create_app; create_app('sqlite+aiosqlite:///:memory:', keys='k.json')"
    keys = _audit_keys(tmp_path)
    refused = _python(start, KYODO_ENV="production", **keys)
    assert refused.returncode != 0 and "KYODO_CARD_PEPPER" in refused.stderr
    started = _python(start, KYODO_ENV="production", KYODO_CARD_PEPPER=GOOD_PEPPER, **keys)
    assert started.returncode == 0, started.stderr


def test_production_gateway_never_invents_its_context_key(monkeypatch, tmp_path):
    from auth.gateway_keys import load_or_create_signing_key, public_key_source

    monkeypatch.setenv("KYODO_ENV", "production")
    monkeypatch.delenv("KYODO_GATEWAY_JWKS", raising=False)
    with pytest.raises(ProductionConfigError, match="does not exist"):
        load_or_create_signing_key(tmp_path / "missing-key.json")
    assert not (tmp_path / "missing-key.json").exists()
    with pytest.raises(ProductionConfigError, match="KYODO_GATEWAY_JWKS"):
        public_key_source(None)
    monkeypatch.delenv("KYODO_ENV")
    made = load_or_create_signing_key(tmp_path / "key.json")        # development: made on first run, 0600
    assert mode(tmp_path / "key.json") == 0o600
    monkeypatch.setenv("KYODO_ENV", "production")
    assert load_or_create_signing_key(tmp_path / "key.json").kid == made.kid   # an installed key is used


async def test_sqlite_database_files_are_created_owner_only(tmp_path):
    from sqlalchemy import text

    from subgraphs.common.db import Database

    database = Database("common", f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'x.sqlite'}")
    try:
        async with database.transaction() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await database.dispose()
    files = [p for p in (tmp_path / "sub").iterdir() if p.name.startswith("x.sqlite")]
    assert files and all(mode(p) == 0o600 for p in files), {p.name: oct(mode(p)) for p in files}


def test_idp_admin_token_is_never_printed(tmp_path):
    """`kyodo idp` used to print its admin bearer token; now it names a 0600 file instead."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    process = subprocess.Popen([sys.executable, "-m", "kyodo", "idp", "--port", "0", "--state-dir", str(tmp_path)],
                               cwd=ROOT, env=clean, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.terminate()
        process.wait(timeout=20)
    token_file = tmp_path / "admin-token"
    token = token_file.read_text().strip()
    assert len(token) >= 24 and mode(token_file) == 0o600
    output = "".join(lines)
    assert "rotate the signing key" in output and str(token_file) in output
    assert token not in output
