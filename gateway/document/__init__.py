"""Parse + validate against the API schema, with limits checked first and a bounded LRU cache."""

from __future__ import annotations

from gateway.document.cache import DocumentCache, InvalidDocument, ValidDocument
from gateway.document.errors import GraphQLRequestError, graphql_error
from gateway.document.limits import DocumentLimitError, DocumentLimits, check_document_limits
from gateway.document.lru import CacheStats, LruCache
from gateway.document.operation import check_variables, select_operation

__all__ = [
    "CacheStats",
    "DocumentCache",
    "DocumentLimitError",
    "DocumentLimits",
    "GraphQLRequestError",
    "InvalidDocument",
    "LruCache",
    "ValidDocument",
    "check_document_limits",
    "check_variables",
    "graphql_error",
    "select_operation",
]
