"""Parse + validate against the API schema (limits first, bounded LRU cache), then prepare the operation."""

from __future__ import annotations

from gateway.document.cache import DocumentCache, InvalidDocument, ValidDocument
from gateway.document.conditions import ConditionTerm, condition_terms, included
from gateway.document.defer import (
    DeferredFragment,
    DeferSplit,
    defer_split,
    deferred_now,
    fragment_active,
    fragment_included,
    may_defer,
    without_deferred,
)
from gateway.document.errors import GraphQLRequestError, graphql_error
from gateway.document.limits import DocumentLimitError, DocumentLimits, check_document_limits
from gateway.document.lru import CacheStats, LruCache
from gateway.document.operation import select_operation
from gateway.document.prepared import (
    INTROSPECTION_ROOTS,
    AnalyzedOperation,
    PreparedOperation,
    analyze_document,
    analyze_operation,
    prepare_operation,
    root_fields_of,
)

__all__ = [
    "INTROSPECTION_ROOTS",
    "AnalyzedOperation",
    "CacheStats",
    "DeferSplit",
    "DeferredFragment",
    "ConditionTerm",
    "DocumentCache",
    "DocumentLimitError",
    "DocumentLimits",
    "GraphQLRequestError",
    "InvalidDocument",
    "LruCache",
    "PreparedOperation",
    "ValidDocument",
    "analyze_document",
    "analyze_operation",
    "check_document_limits",
    "condition_terms",
    "defer_split",
    "deferred_now",
    "fragment_active",
    "fragment_included",
    "may_defer",
    "root_fields_of",
    "without_deferred",
    "graphql_error",
    "included",
    "prepare_operation",
    "select_operation",
]
