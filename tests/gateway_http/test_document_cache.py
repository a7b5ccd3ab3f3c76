"""The document stage on its own: limits before validation, and the LRU cache with statistics."""

from __future__ import annotations

import pytest
from graphql import build_schema

from gateway.document import DocumentCache, DocumentLimits, GraphQLRequestError, LruCache
from gateway.document.limits import DocumentLimitError, check_document_limits
from graphql import parse

SCHEMA = build_schema(
    """
    type Query { a: Int b(x: Int): Int node: Node nodes: [Node] }
    type Node { id: ID child: Node }
    """
)


def code_of(cache: DocumentCache, text: str) -> str:
    with pytest.raises(GraphQLRequestError) as raised:
        cache.get(text)
    assert raised.value.status == 400
    return raised.value.errors[0]["extensions"]["code"]


def cache(**limits) -> DocumentCache:
    return DocumentCache(SCHEMA, DocumentLimits(**limits), 16)


@pytest.mark.parametrize(
    ("limits", "query", "code"),
    [
        ({"max_document_bytes": 10}, "{ a b(x: 1) }", "MAX_DOCUMENT_SIZE_LIMIT"),
        ({"max_tokens": 5}, "{ a b(x: 1) }", "MAX_TOKENS_LIMIT"),
        ({"max_depth": 2}, "{ node { child { id } } }", "MAX_DEPTH_LIMIT"),
        ({"max_depth": 2}, "{ ...F } fragment F on Query { node { child { id } } }", "MAX_DEPTH_LIMIT"),
        ({"max_depth": 3}, "{ node { ...C } } fragment C on Node { child { child { id } } }", "MAX_DEPTH_LIMIT"),
        ({"max_aliases": 2}, "{ x: a y: a z: a }", "MAX_ALIASES_LIMIT"),
        ({"max_aliases": 3}, "{ ...F ...F } fragment F on Query { x: a y: a }", "MAX_ALIASES_LIMIT"),
        ({"max_root_fields": 2}, "{ a b node { id } }", "MAX_ROOT_FIELDS_LIMIT"),
        ({"max_root_fields": 2}, "{ a ... on Query { b node { id } } }", "MAX_ROOT_FIELDS_LIMIT"),
        ({"max_fragments": 1}, "{ ...F ...G } fragment F on Query { a } fragment G on Query { b }", "MAX_FRAGMENTS_LIMIT"),
        ({"max_fragment_spreads": 3}, "{ ...F ...F } fragment F on Query { ...G ...G } fragment G on Query { a }", "MAX_FRAGMENT_SPREADS_LIMIT"),
        ({"max_repeated_fields": 3}, "{ b(x: 1) b(x: 2) b(x: 3) b(x: 4) }", "MAX_REPEATED_FIELDS_LIMIT"),
        ({"max_repeated_fields": 3}, "{ b ...F ... on Query { b } } fragment F on Query { b b }", "MAX_REPEATED_FIELDS_LIMIT"),
    ],
)
def test_each_limit_refuses_before_validation(limits, query, code):
    assert code_of(cache(**limits), query) == code


@pytest.mark.parametrize(
    ("limits", "query"),
    [
        ({"max_depth": 3}, "{ node { child { id } } }"),
        ({"max_aliases": 2}, "{ x: a y: a }"),
        ({"max_root_fields": 3}, "{ a b node { id } }"),
        ({"max_repeated_fields": 2}, "{ b(x: 1) c: b(x: 2) b(x: 1) }"),
    ],
)
def test_documents_at_the_limit_pass(limits, query):
    assert cache(**limits).get(query).document is not None


def test_fragment_bomb_is_counted_without_expanding():
    levels = 40  # 10^40 expanded spreads: only countable, never walkable
    text = "{ ...F0 } " + " ".join(
        f"fragment F{i} on Query {{ " + " ".join([f"...F{i + 1}"] * 10) + " }" for i in range(levels)
    ) + f" fragment F{levels} on Query {{ a }}"
    limits = DocumentLimits(max_repeated_fields=10**50, max_fragment_spreads=1000)
    with pytest.raises(DocumentLimitError) as raised:
        check_document_limits(parse(text), limits)
    assert raised.value.code == "MAX_FRAGMENT_SPREADS_LIMIT"


def test_fragment_cycle_is_refused_not_recursed():
    assert code_of(cache(), "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }") == "GRAPHQL_VALIDATION_FAILED"


def test_default_limits_accept_the_full_introspection_query():
    from graphql import get_introspection_query

    assert cache().get(get_introspection_query()).operations


def test_valid_document_is_parsed_once():
    documents = cache()
    first = documents.get("{ a }")
    second = documents.get("{ a }")
    assert first is second
    assert (documents.stats().misses, documents.stats().hits) == (1, 1)


def test_validation_and_parse_errors_are_cached_too():
    documents = cache()
    for text in ("{ nope }", "{ a "):
        codes = {code_of(documents, text) for _ in range(3)}
        assert len(codes) == 1
    assert (documents.stats().misses, documents.stats().hits) == (2, 4)


def test_limit_refusals_are_not_cached():
    documents = cache(max_aliases=1)
    code_of(documents, "{ x: a y: a }")
    assert documents.stats().size == 0


def test_introspection_switch():
    off = DocumentCache(SCHEMA, DocumentLimits(), 4, introspection=False)
    assert code_of(off, "{ __schema { types { name } } }") == "GRAPHQL_VALIDATION_FAILED"
    assert code_of(off, '{ __type(name: "Node") { name } }') == "GRAPHQL_VALIDATION_FAILED"
    assert off.get("{ __typename a }")


def test_lru_evicts_least_recently_used():
    lru: LruCache[str, int] = LruCache(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("c", 3)
    assert lru.get("b") is None
    assert lru.get("a") == 1 and lru.get("c") == 3
    stats = lru.stats()
    assert (stats.hits, stats.misses, stats.evictions, stats.size) == (3, 1, 1, 2)


def test_zero_sized_cache_keeps_nothing():
    lru: LruCache[str, int] = LruCache(0)
    lru.put("a", 1)
    assert lru.get("a") is None and len(lru) == 0
