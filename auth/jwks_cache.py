"""An issuer's signing keys, fetched over HTTP (aiohttp) and cached.

* OIDC discovery when no `jwks_uri` is configured: `<issuer>/.well-known/openid-configuration`
  (then the RFC 8414 `oauth-authorization-server` document), whose `issuer` must match exactly.
* A token naming a `kid` the cache lacks triggers one re-fetch, so a key rotation at the
  provider is picked up without a restart; re-fetches are rate-limited (`refresh_cooldown`),
  so a flood of tokens with invented kids cannot turn the gateway against the provider.
* Concurrent misses share one fetch (a lock), and documents are size-bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

MAX_DOCUMENT_BYTES = 512 * 1024


class KeyFetchError(Exception):
    """The issuer's discovery document or JWKS could not be fetched or read."""


class JwksCache:
    def __init__(
        self,
        issuer: str,
        *,
        jwks_uri: str | None = None,
        session_factory: Any = None,
        refresh_cooldown: float = 30.0,
        max_age: float = 3600.0,
        timeout: float = 5.0,
    ) -> None:
        self.issuer = issuer
        self._jwks_uri = jwks_uri
        self._session_factory = session_factory
        self.refresh_cooldown = refresh_cooldown
        self.max_age = max_age
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._failed_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetch_count = 0  # observable for tests and metrics

    async def _get_json(self, url: str) -> dict:
        session: aiohttp.ClientSession = await self._session_factory()
        try:
            async with session.get(url, timeout=self._timeout, allow_redirects=False) as response:
                if response.status != 200:
                    raise KeyFetchError(f"{url} answered HTTP {response.status}")
                body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
        except aiohttp.ClientError as error:
            raise KeyFetchError(f"{url} could not be fetched: {error.__class__.__name__}") from None
        except asyncio.TimeoutError:
            raise KeyFetchError(f"{url} timed out") from None
        if len(body) > MAX_DOCUMENT_BYTES:
            raise KeyFetchError(f"{url} returned a document that is too large")
        try:
            document = json.loads(body)
        except ValueError:
            raise KeyFetchError(f"{url} did not return JSON") from None
        if not isinstance(document, dict):
            raise KeyFetchError(f"{url} did not return a JSON object")
        return document

    async def jwks_uri(self) -> str:
        if self._jwks_uri:
            return self._jwks_uri
        base = self.issuer.rstrip("/")
        last_error: KeyFetchError | None = None
        for suffix in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
            try:
                metadata = await self._get_json(base + suffix)
            except KeyFetchError as error:
                last_error = error
                continue
            if metadata.get("issuer") != self.issuer:
                raise KeyFetchError(f"the discovery document of {self.issuer} names another issuer")
            uri = metadata.get("jwks_uri")
            if not isinstance(uri, str):
                raise KeyFetchError(f"the discovery document of {self.issuer} has no jwks_uri")
            self._jwks_uri = uri
            return uri
        raise last_error or KeyFetchError(f"no discovery document for {self.issuer}")

    async def _refresh(self) -> None:
        document = await self._get_json(await self.jwks_uri())
        raw_keys = document.get("keys")
        if not isinstance(raw_keys, list):
            raise KeyFetchError(f"the JWKS of {self.issuer} has no 'keys' list")
        usable = []
        for raw in raw_keys:
            # Skip keys we cannot use (encryption keys, unknown types) instead of failing the set.
            if not isinstance(raw, dict) or raw.get("use", "sig") != "sig" or raw.get("kty") == "oct":
                continue
            try:
                usable.append(KeySet.import_key_set({"keys": [raw]}).keys[0])
            except (JoseError, ValueError, TypeError, KeyError):
                continue
        self._keys = KeySet(usable)
        self._fetched_at = time.monotonic()
        self.fetch_count += 1

    async def keys(self) -> KeySet:
        if self._keys is None or time.monotonic() - self._fetched_at > self.max_age:
            async with self._lock:
                if self._keys is None or time.monotonic() - self._fetched_at > self.max_age:
                    await self._refresh_or_keep()
        assert self._keys is not None
        return self._keys

    async def _refresh_or_keep(self) -> None:
        """Refresh; on failure keep serving the keys we have, and do not retry within the cooldown
        (an unreachable provider must not be hit once per incoming request)."""
        if time.monotonic() - self._failed_at < self.refresh_cooldown:
            if self._keys is not None:
                return
            raise KeyFetchError(f"the keys of {self.issuer} could not be fetched recently; retrying later")
        try:
            await self._refresh()
        except KeyFetchError:
            self._failed_at = time.monotonic()
            if self._keys is None:
                raise

    async def refresh_for_unknown_kid(self) -> bool:
        """Re-fetch once unless the last fetch was within the cooldown; True if re-fetched."""
        async with self._lock:
            now = time.monotonic()
            if now - self._fetched_at < self.refresh_cooldown or now - self._failed_at < self.refresh_cooldown:
                return False
            try:
                await self._refresh()
            except KeyFetchError:
                self._failed_at = time.monotonic()
                return False  # keep the keys we have; the token's kid stays unknown
            return True

    @staticmethod
    def find(keys: KeySet, kid: str | None, alg: str) -> Key | None:
        """The key named by `kid`; without a kid, the only key that fits the algorithm, if unique."""
        if kid is not None:
            return next((key for key in keys if key.kid == kid), None)
        candidates = [key for key in keys if key_fits(key, alg)]
        return candidates[0] if len(candidates) == 1 else None


# Which key type each asymmetric JWS algorithm family needs (RFC 7518, RFC 8037).
_KEY_TYPE_FOR_PREFIX = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


def key_fits(key: Key, alg: str) -> bool:
    """The key's type matches the algorithm, and its own `alg` (if published) is this one."""
    if key.alg not in (None, alg):
        return False
    return _KEY_TYPE_FOR_PREFIX.get(alg[:2]) == key.key_type
