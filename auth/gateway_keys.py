"""The gateway's own signing key for `Kyodo-Context` tokens, and its public JWKS.

The private key lives in a JWK file (dev: generated under var/ on first run, mode 0600). Next to
it the public JWKS is written, so a subgraph can point `KYODO_GATEWAY_JWKS` at that file; the
gateway can also serve the same document over HTTP and a subgraph can point at that URL.
Subgraphs only ever see public keys.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from auth.production import ProductionConfigError, is_production, required_setting

CONTEXT_ALGORITHM = "ES256"
DEFAULT_KEY_PATH = Path("var/gateway-context-key.json")
DEFAULT_PUBLIC_JWKS_PATH = Path("var/gateway-context-jwks.json")
JWKS_ENV = "KYODO_GATEWAY_JWKS"
# A forged token with an unknown kid must not make every request re-read the key source.
RELOAD_INTERVAL_SECONDS = 10.0
MAX_JWKS_BYTES = 256 * 1024


def generate_signing_key() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"alg": CONTEXT_ALGORITHM, "use": "sig"}, private=True)
    key.ensure_kid()  # RFC 7638 thumbprint: stable and unique per key
    return key


def public_jwks_path_for(key_path: Path) -> Path:
    """`var/gateway-context-key.json` -> `var/gateway-context-jwks.json`."""
    name = key_path.name.replace("-key", "-jwks") if "-key" in key_path.name else key_path.stem + "-jwks.json"
    return key_path.with_name(name)


def public_jwks(*keys: ECKey) -> dict:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def load_or_create_signing_key(path: str | Path = DEFAULT_KEY_PATH, *, create: bool = True) -> ECKey:
    """Read the gateway's private EC key (a JWK file); generate it on first run when `create`.

    The public JWKS file beside it is (re)written every time, so it always matches the key.
    """
    path = Path(path)
    if path.exists():
        key = ECKey.import_key(json.loads(path.read_text()))
        if not key.is_private:
            raise ValueError(f"{path} holds a public key; the gateway needs its private key")
        key.ensure_kid()
    elif create and not is_production():
        key = generate_signing_key()
        _write_private(path, json.dumps(key.as_dict(private=True)))
    elif create:
        raise ProductionConfigError(f"{path} does not exist: in production the gateway's context-signing key is "
                                    "made and installed beforehand (kyodo never invents one at start-up)")
    else:
        raise FileNotFoundError(f"gateway signing key {path} does not exist")
    write_public_jwks(public_jwks_path_for(path), key)
    return key


def write_public_jwks(path: str | Path, *keys: ECKey) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary file of its own (several processes sharing the key, e.g. `--workers N`, write at once),
    # renamed over the old one: atomic, so a subgraph never reads half a file.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=path.name + ".", suffix=".tmp",
                                     delete=False) as tmp:
        tmp.write(json.dumps(public_jwks(*keys), indent=2))
    try:
        os.chmod(tmp.name, 0o644)   # a public key set: readable like the file it replaces
        os.replace(tmp.name, path)
    except OSError:
        os.unlink(tmp.name)
        raise
    return path


def _read_source(source: str) -> dict:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=5) as response:  # noqa: S310 - configured URL
            body = response.read(MAX_JWKS_BYTES + 1)
    else:
        body = Path(source).read_bytes()
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError(f"the JWKS at {source} is too large")
    return json.loads(body)


def import_public_keys(jwks: dict) -> KeySet:
    keys = KeySet.import_key_set(jwks)
    for key in keys:
        if key.is_private:
            raise ValueError("a JWKS handed to verifiers must not contain private keys")
    return keys


@dataclass
class PublicKeySource:
    """The gateway's public keys as a subgraph sees them: a file path or URL, cached.

    `keys()` loads once; `reload_for_unknown_kid()` re-reads at most every RELOAD_INTERVAL_SECONDS,
    so a gateway key rotation reaches a subgraph without a restart.
    """

    source: str
    _keys: KeySet | None = None
    _loaded_at: float = field(default=float("-inf"))
    _failed_at: float = field(default=float("-inf"))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> KeySet:
        if self._keys is None:
            if time.monotonic() - self._failed_at < RELOAD_INTERVAL_SECONDS:
                # a URL source must not block every request while the gateway is unreachable
                raise OSError("loading failed moments ago; retrying later")
            self._load()
        assert self._keys is not None
        return self._keys

    def reload_for_unknown_kid(self) -> bool:
        """Returns True if the keys were re-read (the caller then retries once)."""
        now = time.monotonic()
        if now - self._loaded_at < RELOAD_INTERVAL_SECONDS or now - self._failed_at < RELOAD_INTERVAL_SECONDS:
            return False
        self._load()
        return True

    def _load(self) -> None:
        with self._lock:
            try:
                keys = import_public_keys(_read_source(self.source))
            except (OSError, ValueError, JoseError):
                self._failed_at = time.monotonic()
                raise
            self._keys = keys
            self._loaded_at = time.monotonic()


_sources: dict[str, PublicKeySource] = {}


def public_key_source(source: str | None = None) -> PublicKeySource:
    """The cached key source for `source`, else `$KYODO_GATEWAY_JWKS`, else the dev file under var/."""
    resolved = source or required_setting(JWKS_ENV, "the gateway's public JWKS, a file or URL") \
        or str(DEFAULT_PUBLIC_JWKS_PATH)
    if resolved not in _sources:
        _sources[resolved] = PublicKeySource(resolved)
    return _sources[resolved]
