"""Refusing a hostile document is cheap and leaves nothing behind.

A first pass over the raw text refuses documents certainly over the token, fragment, spread or alias
limits before graphql-core lexes them, with the code the full check would give; it never refuses a
document the full check accepts. Documents refused after parsing (over a limit the AST shows, or not
parsable) leave no cyclic garbage: their token list and the refusal's traceback are freed by reference
counting, so a process whose cyclic collector seldom runs does not grow with refusals."""

from __future__ import annotations

import gc

import pytest
from graphql import build_schema

import gateway.document.cache as document_cache
from gateway.document import DocumentCache, DocumentLimits, GraphQLRequestError
from gateway.document.prescan import prescan_document

SCHEMA = build_schema("""
    type Query { a: Int b(x: Int, s: String): Int node(id: ID): Node }
    type Node { id: ID child: Node }
""")

ALIASES_10000 = "{ " + " ".join(f"a{n}: b(x: {n})" for n in range(10_000)) + " }"
FRAGMENT_CHAIN_10000 = "{ node { ...F0 } } " + " ".join(
    f"fragment F{n} on Node {{ ...F{n + 1} }}" for n in range(10_000)) + " fragment F10000 on Node { id }"
TOKENS = "{ " + "a " * 20_000 + "}"
COMMENTS = "{ a\n" + "#\n" * 20_000 + "}"


def _code(cache: DocumentCache, text: str) -> str:
    """The refusal's code (a plain `except`: pytest.raises keeps the exception in a cycle of its own)."""
    try:
        cache.get(text)
    except GraphQLRequestError as error:
        return str(error.errors[0]["extensions"]["code"])
    raise AssertionError("the document was accepted")


class _NoParsing:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the document reached graphql-core's parser")


@pytest.mark.parametrize(("text", "code"), [
    (ALIASES_10000, "MAX_TOKENS_LIMIT"),
    (FRAGMENT_CHAIN_10000, "MAX_TOKENS_LIMIT"),
    (TOKENS, "MAX_TOKENS_LIMIT"),
    (COMMENTS, "MAX_TOKENS_LIMIT"),
])
def test_hostile_documents_are_refused_before_lexing(monkeypatch: pytest.MonkeyPatch, text: str, code: str) -> None:
    monkeypatch.setattr(document_cache, "Parser", _NoParsing)
    assert _code(DocumentCache(SCHEMA, DocumentLimits(), 8), text) == code


@pytest.mark.parametrize(("text", "code"), [
    (ALIASES_10000, "MAX_ALIASES_LIMIT"),
    (FRAGMENT_CHAIN_10000, "MAX_FRAGMENTS_LIMIT"),
])
def test_under_a_large_token_limit_the_first_pass_still_refuses(monkeypatch: pytest.MonkeyPatch, text: str,
                                                                 code: str) -> None:
    limits = DocumentLimits(max_tokens=10_000_000, max_document_bytes=10_000_000)
    monkeypatch.setattr(document_cache, "Parser", _NoParsing)
    assert _code(DocumentCache(SCHEMA, limits, 8), text) == code


TWO_OPERATIONS = " ".join(
    f"query Q{q} {{ node {{ " + " ".join(f"a{n}: id" for n in range(150)) + " } }" for q in range(2))


@pytest.mark.parametrize("text", [
    TWO_OPERATIONS,  # 300 aliases in the text, 150 in each operation
    '{ b(s: "' + "x: " * 400 + '") }',  # colons in a string value
    "{ a }\n" + "# fragment F on Node\n" * 300,  # fragment definitions in comments
    "query ($x: Int = 1 " + " ".join(f"$v{n}: Int" for n in range(300)) + ") { b(x: $x) }",  # colons in parentheses
    '{ b(s: """' + "...F " * 1200 + '""") }',  # spreads in a block string
])
def test_the_first_pass_never_refuses_what_the_full_check_accepts(text: str) -> None:
    limits = DocumentLimits(max_tokens=100_000)
    try:
        DocumentCache(SCHEMA, limits, 8).get(text)
    except GraphQLRequestError as error:  # only validation may object (unused variables), never a limit
        assert error.errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    prescan_document(text, limits)  # and the pass alone agrees


def _cyclic_garbage_after(action) -> int:
    """How many unreachable objects in cycles the action leaves for the cyclic collector."""
    gc.collect()
    gc.disable()
    try:
        action()
        return gc.collect()
    finally:
        gc.enable()


def test_a_document_refused_after_parsing_leaves_no_cycles() -> None:
    cache = DocumentCache(SCHEMA, DocumentLimits(max_depth=3), 8)
    deep = "{ node { child { child { child { child { id } } } } } " + "a " * 2000 + "}"

    def refuse() -> None:
        for _ in range(3):
            assert _code(cache, deep) == "MAX_DEPTH_LIMIT"
    assert _cyclic_garbage_after(refuse) < 100


def test_a_document_that_fails_to_parse_leaves_no_cycles() -> None:
    cache = DocumentCache(SCHEMA, DocumentLimits(), 1)
    broken = "{ " + "a " * 2000 + "b(x: ) }"

    def refuse() -> None:
        for i in range(3):
            assert _code(cache, broken + " " * i) == "GRAPHQL_PARSE_FAILED"
    assert _cyclic_garbage_after(refuse) < 100
