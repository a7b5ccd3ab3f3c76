"""What refusing a hostile document costs: the document stage alone, per document, in milliseconds.

    .venv/bin/python -m bench.documents.refusal_cost            # 20 rounds of each document
    .venv/bin/python -m bench.documents.refusal_cost --rounds 50

For each document: the gateway's refusal (`DocumentCache.get`: the first pass over the text, then, for
what it lets through, graphql-core's parser and the limits), and, for comparison, what lexing alone costs
graphql-core up to its token limit (what every such refusal cost before the first pass). Median and
worst of `--rounds` runs (bounded: a few seconds in all).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from graphql import GraphQLError, build_schema, parse

from gateway.document import DocumentCache, DocumentLimits, GraphQLRequestError

SCHEMA = build_schema("type Query { a: Int b(x: Int): Int node(id: ID): Node } type Node { id: ID child: Node }")
LIMITS = DocumentLimits()

DOCUMENTS = {
    "aliases_10000": "{ " + " ".join(f"a{n}: b(x: {n})" for n in range(10_000)) + " }",
    "fragment_chain_10000": "{ node { ...F0 } } " + " ".join(
        f"fragment F{n} on Node {{ ...F{n + 1} }}" for n in range(10_000)) + " fragment F10000 on Node { id }",
    "tokens_20000": "{ " + "a " * 20_000 + "}",
    "comments_20000": "{ a\n" + "#\n" * 20_000 + "}",
    "unbalanced_quotes": "{ a(s: " + '"x' * 200_000 + " }",  # the first pass must stay linear here
    "aliases_201": "{ " + " ".join(f"a{n}: a" for n in range(201)) + " }",
}


def _time(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        try:
            action()
        except (GraphQLRequestError, GraphQLError):
            pass
        samples.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    cache = DocumentCache(SCHEMA, LIMITS, 16)
    for name, text in DOCUMENTS.items():
        refused_median, refused_worst = _time(lambda: cache.get(text), args.rounds)
        lex_median, _ = _time(lambda: parse(text, max_tokens=LIMITS.max_tokens), max(3, args.rounds // 4))
        try:
            cache.get(text)
            code = "accepted"
        except GraphQLRequestError as error:
            code = error.errors[0]["extensions"]["code"]
        print(json.dumps({"document": name, "chars": len(text), "code": code,
                          "refusal_ms_median": round(refused_median, 2), "refusal_ms_worst": round(refused_worst, 2),
                          "graphql_core_parse_ms_median": round(lex_median, 2)}), flush=True)


if __name__ == "__main__":
    main()
