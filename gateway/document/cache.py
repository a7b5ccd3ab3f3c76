"""Parse and validate a document once: the result, valid or not, is kept in a bounded LRU cache.

Keyed by the document text alone (the API schema is fixed for the life of a cache), so a repeated
operation costs one dictionary lookup. Limits are checked before validation; documents refused by
a limit are not cached (refusing them is already cheap, and their text can be large).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from graphql import GraphQLError, GraphQLSchema, specified_rules, validate
from graphql.language import DocumentNode, Token
from graphql.language.parser import Parser
from graphql.validation import NoSchemaIntrospectionCustomRule

from gateway.document.errors import GraphQLRequestError, from_graphql_error, graphql_error
from gateway.document.limits import DocumentLimitError, DocumentLimits, check_document_limits
from gateway.document.lru import CacheStats, LruCache
from gateway.document.prescan import prescan_document
from gateway.document.prepared import (
    AnalyzedOperation,
    analyze_operation,
    fragment_map,
    operations_of,
    select_definition,
)

# graphql-core's messages when it stops parsing at `max_tokens` or at its own nesting bound.
_TOKEN_LIMIT_MESSAGE = "Document contains more than"
_NESTING_LIMIT_MESSAGE = "nested too deeply"


@dataclass(frozen=True)
class ValidDocument:
    text: str
    document: DocumentNode
    # operation name (None for the one anonymous operation) -> its analysis (built once, here)
    operations: Mapping[str | None, AnalyzedOperation]

    def operation(self, operation_name: str | None) -> AnalyzedOperation:
        """The operation a request names, or GraphQLRequestError (400) saying why there is none."""
        if operation_name is None and len(self.operations) == 1:
            return next(iter(self.operations.values()))  # the common case: one dictionary read
        found = self.operations.get(operation_name)
        if found is not None:
            return found
        definition = select_definition({n: a.operation for n, a in self.operations.items()}, operation_name)
        return self.operations[definition.name.value if definition.name else None]


@dataclass(frozen=True)
class InvalidDocument:
    errors: tuple[dict[str, Any], ...]


class DocumentCache:
    def __init__(
        self,
        schema: GraphQLSchema,
        limits: DocumentLimits,
        max_size: int,
        *,
        introspection: bool = True,
        max_validation_errors: int = 20,
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.rules = tuple(specified_rules) + (() if introspection else (NoSchemaIntrospectionCustomRule,))
        self.max_validation_errors = max_validation_errors
        self._cache: LruCache[str, ValidDocument | InvalidDocument] = LruCache(max_size)

    def stats(self) -> CacheStats:
        return self._cache.stats()

    def get(self, text: str) -> ValidDocument:
        """The validated document, or GraphQLRequestError (status 400) saying why not."""
        cached = self._cache.get(text)
        if cached is None:
            cached = self._parse_and_validate(text)
            self._cache.put(text, cached)
        if isinstance(cached, InvalidDocument):
            raise GraphQLRequestError(cached.errors)
        return cached

    def _parse_and_validate(self, text: str) -> ValidDocument | InvalidDocument:
        limits = self.limits
        if len(text) > limits.max_document_bytes or len(text.encode("utf-8")) > limits.max_document_bytes:
            raise GraphQLRequestError.single(
                f"Document exceeds the maximum size of {limits.max_document_bytes} bytes.", "MAX_DOCUMENT_SIZE_LIMIT"
            )
        # Refusals are raised after the `except` blocks, never inside them: an exception raised there keeps
        # the caught one (and its traceback's frames: the parser, its lexer) as its __context__.
        # (`refusal` holds the error entries, not an exception: a raised exception kept in a local of this
        # frame would form a cycle through its own traceback)
        refusal: list[dict[str, Any]] | None = None
        try:
            prescan_document(text, limits)
        except DocumentLimitError as error:
            refusal = [graphql_error(error.message, error.code)]
        if refusal is not None:
            raise GraphQLRequestError(refusal)
        parser = Parser(text, no_location=False, max_tokens=limits.max_tokens, allow_empty_selection_sets=False)
        document: DocumentNode | None = None
        invalid: InvalidDocument | None = None
        try:
            document = parser.parse_document()
        except GraphQLError as error:
            error.__traceback__ = None
            if _TOKEN_LIMIT_MESSAGE in error.message or _NESTING_LIMIT_MESSAGE in error.message:
                code = "MAX_TOKENS_LIMIT" if _TOKEN_LIMIT_MESSAGE in error.message else "MAX_DEPTH_LIMIT"
                refusal = [from_graphql_error(error, code)]
            else:
                invalid = InvalidDocument((from_graphql_error(error, "GRAPHQL_PARSE_FAILED"),))
        except RecursionError:
            refusal = [graphql_error("Document is nested too deeply.", "MAX_DEPTH_LIMIT")]
        finally:
            _unlink_tokens(parser)
        if refusal is not None:
            raise GraphQLRequestError(refusal)
        if document is None:
            assert invalid is not None  # the parser either returns a document or raises
            return invalid
        try:
            check_document_limits(document, limits)
        except DocumentLimitError as error:
            refusal = [graphql_error(error.message, error.code)]
        if refusal is not None:
            raise GraphQLRequestError(refusal)
        errors = validate(self.schema, document, self.rules, max_errors=self.max_validation_errors)
        if errors:
            return InvalidDocument(tuple(from_graphql_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors))
        fragments = fragment_map(document)
        operations = {
            name: analyze_operation(document, definition, text, fragments)
            for name, definition in operations_of(document).items()
        }
        return ValidDocument(text, document, MappingProxyType(operations))


def _unlink_tokens(parser: Parser) -> None:
    """Cut the back links of the parser's token list, so it is freed by reference counting.

    graphql-core chains every token both ways (`prev`/`next`): a cycle per document, which only the
    cyclic collector reclaims, and a serving process raises its thresholds so that it seldom runs (see
    gateway/http/runtime.py). Nothing reads `prev` after parsing (locations keep their start and end
    tokens and the source); a refused document's tokens are then freed at once, and a cached document's
    with it when the cache drops it.
    """
    current: Token | None = parser._lexer.token  # noqa: SLF001 - graphql-core keeps the lexer private
    ahead = current.next if current is not None else None
    while ahead is not None:  # tokens looked ahead at
        ahead.prev = None
        ahead = ahead.next
    while current is not None:
        previous = current.prev
        current.prev = None
        current = previous
