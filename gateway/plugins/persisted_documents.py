"""Trusted documents and automatic persisted queries (APQ), as a plugin of the stage protocol.

Runs before the document is parsed: `resolve_request(request, state)` (called by the HTTP stage right after
the body is read) turns an id into the document text, or refuses the request. Clients send the id as
Apollo does (`extensions.persistedQuery.sha256Hash`) or as Hive and GraphQL over HTTP do (`documentId`).

Modes (`[persisted_documents] mode`):
- `off`: manifest ids are not looked up; only APQ, if `apq = true`.
- `log_unlisted`: ids are looked up; full-text documents run, and those not in the manifest are logged.
- `safelist`: only documents in the manifest run, by id or as their exact listed text (`require_id`:
  by id only). APQ registration is refused: it would let any client add a document.

APQ follows Apollo's protocol: an unknown hash answers `PersistedQueryNotFound`
(PERSISTED_QUERY_NOT_FOUND, HTTP 200, so the client resends with the text); text and hash register the
text once it has parsed and validated; a hash that does not match the text is refused. With APQ off a
`persistedQuery` extension answers `PersistedQueryNotSupported`.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from gateway.document import GraphQLRequestError
from gateway.persisted.manifest import sha256_hex
from gateway.persisted.settings import PersistedDocumentsSettings
from gateway.persisted.store import DocumentStore, StoreError, open_store
from gateway.pipeline import GraphQLRequest
from gateway.plugins.protocol import DocumentEvent, RequestState

log = logging.getLogger("kyodo.gateway.persisted")

NAME = "persisted_documents"
UNLISTED = NAME + ".unlisted"


def _refuse(message: str, code: str, status: int = 400) -> GraphQLRequestError:
    return GraphQLRequestError.single(message, code, status=status)


class PersistedDocumentsPlugin:
    name = NAME

    def __init__(self, settings: PersistedDocumentsSettings, store: DocumentStore | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else open_store(settings)

    async def resolve_request(self, request: GraphQLRequest, state: RequestState) -> GraphQLRequest:
        try:
            return await self._resolve(request, state)
        except StoreError as error:
            # Fail closed: a safelist that cannot be read lets nothing through.
            log.error("persisted documents: %s", error)
            raise _refuse("The persisted-documents store is unavailable; try again shortly.",
                          "SERVICE_UNAVAILABLE", 503) from None

    async def _resolve(self, request: GraphQLRequest, state: RequestState) -> GraphQLRequest:
        mode = self.settings.mode
        apq_hash = _apq_hash(request.extensions)
        identifier = request.document_id or apq_hash
        if identifier is None or request.query:
            if apq_hash is not None and request.query:
                return await self._register(request, apq_hash, state)
            return await self._free_text(request, state)
        if mode != "off":
            listed = await self.store.operation(identifier)
            if listed is not None:
                state.log_fields["persisted"] = "listed"
                return dataclasses.replace(request, query=listed.body)
        if apq_hash is not None and self.settings.apq and mode != "safelist":
            text = await self.store.apq_get(apq_hash)
            if text is None:
                raise _refuse("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
            state.log_fields["persisted"] = "apq"
            return dataclasses.replace(request, query=text)
        if mode != "off":
            raise _refuse(f"No trusted document has the id {identifier[:80]!r}.", "PERSISTED_QUERY_NOT_IN_LIST")
        raise _refuse("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")

    async def _register(self, request: GraphQLRequest, apq_hash: str, state: RequestState) -> GraphQLRequest:
        """Text and hash: the APQ registration round trip."""
        if sha256_hex(request.query) != apq_hash.lower():
            raise _refuse("provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH")
        if self.settings.mode == "safelist":
            # Registration is refused; the text runs only if it is a trusted document anyway.
            return await self._free_text(request, state)
        if not self.settings.apq:
            if self.settings.mode == "off":
                raise _refuse("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
            return await self._free_text(request, state)
        state.notes[NAME] = (apq_hash.lower(), request.query)  # stored once the document validates
        return await self._free_text(request, state)

    async def _free_text(self, request: GraphQLRequest, state: RequestState) -> GraphQLRequest:
        mode = self.settings.mode
        if mode == "off" or not request.query:
            return request
        if mode == "safelist" and self.settings.require_id:
            raise _refuse("This gateway runs trusted documents by id only; send the document's id.",
                          "PERSISTED_QUERY_ID_REQUIRED")
        if await self.store.listed_body(request.query) is not None:
            state.log_fields["persisted"] = "listed"
            return request
        if mode == "safelist":
            raise _refuse("The operation is not in this gateway's list of trusted documents.", "QUERY_NOT_IN_SAFELIST")
        state.log_fields["persisted"] = "unlisted"
        state.notes[UNLISTED] = sha256_hex(request.query)  # logged once parsed, with the operation's name
        return request

    async def document(self, event: DocumentEvent) -> None:
        unlisted = event.state.notes.pop(UNLISTED, None)
        if unlisted is not None:
            log.warning("unlisted operation %r (sha256 %s) from %s", event.state.operation_name, unlisted,
                        event.state.client)
        pending = event.state.notes.pop(NAME, None)
        if pending is not None and event.error is None:
            try:
                await self.store.apq_put(*pending)
            except StoreError as error:
                log.warning("persisted documents: %s", error)  # the request itself still runs

    async def close(self) -> None:
        await self.store.close()


def _apq_hash(extensions: dict[str, Any] | None) -> str | None:
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise _refuse('"extensions.persistedQuery" must be {"version": 1, "sha256Hash": "<hex>"}.', "BAD_REQUEST")
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not sha or len(sha) > 256:
        raise _refuse('"extensions.persistedQuery.sha256Hash" must be a string.', "BAD_REQUEST")
    return sha
