"""The two secrets that make the audit log tamper-evident, both kept outside the database:

- the chain key (HMAC-SHA256): each record's hash is keyed, so someone who can write the database but does
  not hold this file cannot re-chain the log after removing or changing a record;
- the checkpoint signing key (Ed25519): periodic checkpoints (head id + hash) are signed with it and written
  to a sink outside the database (`audit_checkpoints`), so truncating the log — even with the chain key — no
  longer passes verification. Verifiers need only the public half.

    KYODO_AUDIT_CHAIN_KEY_FILE              32+ random bytes, hex (one line)
    KYODO_AUDIT_CHECKPOINT_KEY_FILE         Ed25519 private key, PEM (PKCS#8) — on the serving hosts
    KYODO_AUDIT_CHECKPOINT_PUBLIC_KEY_FILE  its public key, PEM — enough for `kyodo audit verify`
    KYODO_AUDIT_CHECKPOINT_DIR              the append-only checkpoint sink (a directory)
    KYODO_ENV=production                    refuse to run without the chain key and the checkpoint keys

Without the variables (development), the key files are made under ./var/audit/ with mode 0600 on first use,
and checkpoints go next to a SQLite database file (`audit-checkpoints/`), else to ./var/audit/checkpoints/.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CHAIN_KEY_ENV = "KYODO_AUDIT_CHAIN_KEY_FILE"
CHECKPOINT_KEY_ENV = "KYODO_AUDIT_CHECKPOINT_KEY_FILE"
CHECKPOINT_PUBLIC_KEY_ENV = "KYODO_AUDIT_CHECKPOINT_PUBLIC_KEY_FILE"
CHECKPOINT_DIR_ENV = "KYODO_AUDIT_CHECKPOINT_DIR"
DEV_DIR = Path("var") / "audit"


class AuditKeyError(RuntimeError):
    """A missing or unreadable audit key: the process must not write an unverifiable log."""


def is_production(environ: dict | None = None) -> bool:
    return (environ or os.environ).get("KYODO_ENV", "").strip().lower() == "production"


def _write_secret(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600, complete or not at all, never replacing an existing file: written to a
    private temporary name first, then linked into place (several subgraph processes may start at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass   # another process made it first: use theirs
    finally:
        temporary.unlink(missing_ok=True)


def _configured(name: str, dev_default: Path, make: bytes | None, environ: dict) -> Path:
    value = environ.get(name, "").strip()
    if value:
        path = Path(value)
        if not path.is_file():
            raise AuditKeyError(f"{name} points to {path}, which does not exist")
        return path
    if is_production(environ):
        raise AuditKeyError(f"{name} must be set in production (a key kept outside the database)")
    if make is not None and not dev_default.exists():
        _write_secret(dev_default, make)
    return dev_default


@dataclass(frozen=True)
class AuditKeys:
    chain_key: bytes
    signer: Ed25519PrivateKey | None          # None where only verification happens
    verifier: Ed25519PublicKey
    checkpoint_dir: Path | None               # None: not configured (development; see `sink_for`)

    @property
    def key_id(self) -> str:
        """Names the chain key in each record (not secret: a hash of the key, 16 hex digits)."""
        return hashlib.sha256(b"kyodo-audit-chain-key/" + self.chain_key).hexdigest()[:16]

    @classmethod
    def from_env(cls, environ: dict | None = None) -> AuditKeys:
        env = dict(os.environ if environ is None else environ)
        chain_path = _configured(CHAIN_KEY_ENV, DEV_DIR / "chain.key", secrets.token_hex(32).encode() + b"\n", env)
        try:
            chain_key = bytes.fromhex(chain_path.read_text().strip())
        except (OSError, ValueError) as error:
            raise AuditKeyError(f"cannot read the audit chain key {chain_path}: {error}") from None
        if len(chain_key) < 32:
            raise AuditKeyError(f"the audit chain key {chain_path} is shorter than 32 bytes")
        signer = _load_signer(env)
        verifier = _load_verifier(env, signer)
        configured = env.get(CHECKPOINT_DIR_ENV, "").strip()
        if is_production(env) and not configured:
            raise AuditKeyError(f"{CHECKPOINT_DIR_ENV} must be set in production (a sink outside the database)")
        return cls(chain_key, signer, verifier, Path(configured) if configured else None)

    def sink_for(self, database_url: str | None) -> Path:
        """The checkpoint sink: the configured one; in development, next to a SQLite database file (a fresh
        database in another folder starts a fresh sink), else ./var/audit/checkpoints."""
        if self.checkpoint_dir is not None:
            return self.checkpoint_dir
        if database_url:
            from sqlalchemy.engine import make_url

            parsed = make_url(database_url)
            if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
                return Path(parsed.database).resolve().parent / "audit-checkpoints"
        return DEV_DIR / "checkpoints"


def _new_private_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption())


def _load_signer(env: dict) -> Ed25519PrivateKey | None:
    if not env.get(CHECKPOINT_KEY_ENV, "").strip() and env.get(CHECKPOINT_PUBLIC_KEY_ENV, "").strip():
        return None   # a verifier's host: the public key only
    path = _configured(CHECKPOINT_KEY_ENV, DEV_DIR / "checkpoint.key", _new_private_pem(), env)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise AuditKeyError(f"cannot read the checkpoint signing key {path}: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"the checkpoint signing key {path} is not an Ed25519 key")
    return key


def _load_verifier(env: dict, signer: Ed25519PrivateKey | None) -> Ed25519PublicKey:
    value = env.get(CHECKPOINT_PUBLIC_KEY_ENV, "").strip()
    if not value:
        if signer is None:
            raise AuditKeyError(f"set {CHECKPOINT_PUBLIC_KEY_ENV} (or {CHECKPOINT_KEY_ENV})")
        return signer.public_key()
    try:
        key = serialization.load_pem_public_key(Path(value).read_bytes())
    except (OSError, ValueError) as error:
        raise AuditKeyError(f"cannot read the checkpoint public key {value}: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError(f"the checkpoint public key {value} is not an Ed25519 key")
    return key


_current: AuditKeys | None = None


def current_keys() -> AuditKeys:
    """This process's audit keys (read once)."""
    global _current
    if _current is None:
        _current = AuditKeys.from_env()
    return _current


def reset_current_keys() -> None:
    global _current
    _current = None
