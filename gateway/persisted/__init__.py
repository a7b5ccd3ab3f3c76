"""Trusted documents for citizen apps: the persisted-operation manifest (manifest.py), the store the
gateway reads it from (store.py: a directory, or Redis so every replica sees one list), and the
settings (settings.py). The gateway side is gateway/plugins/persisted_documents.py; `kyodo persisted
publish` is command.py."""

from gateway.persisted.manifest import ManifestError, PersistedOperation, parse_manifest, sha256_hex
from gateway.persisted.settings import PersistedDocumentsSettings
from gateway.persisted.store import DocumentStore, FileStore, RedisStore, StoreError, open_store

__all__ = [
    "DocumentStore",
    "FileStore",
    "ManifestError",
    "PersistedDocumentsSettings",
    "PersistedOperation",
    "RedisStore",
    "StoreError",
    "open_store",
    "parse_manifest",
    "sha256_hex",
]
