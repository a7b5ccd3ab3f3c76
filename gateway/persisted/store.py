"""Where the gateway finds trusted documents (published from a manifest) and APQ registrations.

Two namespaces, never mixed: the manifest (`operation id -> document`, plus `sha256(body) -> id` so a
listed document sent as full text is recognised) and APQ registrations (`sha256 -> text`, made by any
client, so they never count as trusted).

- `FileStore`: a directory, one JSON file per entry, each written to a temporary file and renamed into
  place (an entry is whole or absent). APQ registrations stay in a bounded in-memory LRU: anonymous
  clients must not be able to fill the disk.
- `RedisStore`: every replica sees the same list. A publish is one MULTI/EXEC transaction (all entries or
  none); APQ registrations expire after `apq_ttl_seconds`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Protocol

from gateway.document.lru import LruCache
from gateway.persisted.manifest import PersistedOperation, sha256_hex
from gateway.persisted.settings import PersistedDocumentsSettings


class StoreError(Exception):
    """The store cannot be read or written (a directory not writable, Redis unreachable)."""


class DocumentStore(Protocol):
    async def operation(self, identifier: str) -> PersistedOperation | None: ...
    async def listed_body(self, body: str) -> PersistedOperation | None: ...
    async def publish(self, operations: Iterable[PersistedOperation]) -> int: ...
    async def apq_get(self, sha256: str) -> str | None: ...
    async def apq_put(self, sha256: str, query: str) -> None: ...
    async def close(self) -> None: ...


def _file_name(key: str) -> str:
    # ids are client-chosen text (Hive uses "app~version~hash"): never use them as a path.
    return sha256_hex(key) + ".json"


class FileStore:
    def __init__(self, directory: Path, apq_cache_size: int = 4096) -> None:
        self.directory = directory
        self.apq: LruCache[str, str] = LruCache(apq_cache_size)

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / _file_name(key)

    def _read(self, kind: str, key: str) -> bytes | None:
        try:
            return self._path(kind, key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreError(f"cannot read {self.directory}: {error.strerror or error}") from None

    async def operation(self, identifier: str) -> PersistedOperation | None:
        raw = self._read("ids", identifier)
        return PersistedOperation.from_json(raw) if raw is not None else None

    async def listed_body(self, body: str) -> PersistedOperation | None:
        raw = self._read("bodies", sha256_hex(body))
        return PersistedOperation.from_json(raw) if raw is not None else None

    async def publish(self, operations: Iterable[PersistedOperation]) -> int:
        count = 0
        try:
            for operation in operations:
                data = operation.to_json()
                self._write(self._path("ids", operation.id), data)
                self._write(self._path("bodies", sha256_hex(operation.body)), data)
                count += 1
        except OSError as error:
            raise StoreError(f"cannot write {self.directory}: {error.strerror or error}") from None
        return count

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def apq_get(self, sha256: str) -> str | None:
        return self.apq.get(sha256)

    async def apq_put(self, sha256: str, query: str) -> None:
        self.apq.put(sha256, query)

    async def close(self) -> None:
        return None


class RedisStore:
    def __init__(self, url: str, prefix: str, apq_ttl_seconds: int = 86400) -> None:
        import redis.asyncio as redis_asyncio  # imported only when Redis is configured

        self.redis: Any = redis_asyncio.from_url(url)
        self.prefix = prefix
        self.apq_ttl_seconds = apq_ttl_seconds

    def _key(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{key}"

    async def _get(self, key: str) -> bytes | None:
        try:
            value: bytes | None = await self.redis.get(key)
        except Exception as error:  # redis.exceptions.* and OSError: the store cannot answer
            raise StoreError(f"cannot read the persisted-documents store in Redis: {error}") from None
        return value

    async def operation(self, identifier: str) -> PersistedOperation | None:
        raw = await self._get(self._key("id", identifier))
        return PersistedOperation.from_json(raw) if raw is not None else None

    async def listed_body(self, body: str) -> PersistedOperation | None:
        raw = await self._get(self._key("body", sha256_hex(body)))
        return PersistedOperation.from_json(raw) if raw is not None else None

    async def publish(self, operations: Iterable[PersistedOperation]) -> int:
        mapping: dict[str, bytes] = {}
        count = 0
        for operation in operations:
            data = operation.to_json()
            mapping[self._key("id", operation.id)] = data
            mapping[self._key("body", sha256_hex(operation.body))] = data
            count += 1
        if not mapping:
            return 0
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.mset(mapping)
                await pipe.execute()
        except Exception as error:
            raise StoreError(f"cannot publish to Redis: {error}") from None
        return count

    async def apq_get(self, sha256: str) -> str | None:
        raw = await self._get(self._key("apq", sha256))
        return raw.decode("utf-8") if raw is not None else None

    async def apq_put(self, sha256: str, query: str) -> None:
        try:
            await self.redis.set(self._key("apq", sha256), query.encode("utf-8"), ex=self.apq_ttl_seconds)
        except Exception as error:
            raise StoreError(f"cannot register the persisted query in Redis: {error}") from None

    async def close(self) -> None:
        await self.redis.aclose()


def default_directory() -> Path:
    from kyodo.home import var_dir

    return var_dir() / "persisted"


def store_directory(settings: PersistedDocumentsSettings) -> Path:
    return Path(settings.directory).expanduser() if settings.directory else default_directory()


def open_store(settings: PersistedDocumentsSettings) -> DocumentStore:
    if settings.redis_url:
        return RedisStore(settings.redis_url, settings.key_prefix, settings.apq_ttl_seconds)
    return FileStore(store_directory(settings), settings.apq_cache_size)
