"""Compose each audit suite's subgraphs with kyodo and compare with Apollo's supergraph, by meaning.

    .venv/bin/python bench/audit/compare_composition.py [--server http://127.0.0.1:4200] [--suite NAME] [--fetch] [-v]

Needs the audit subgraph server running (it serves /<suite>/subgraphs and Apollo's /<suite>/supergraph).
Prints one line per suite and "matches: x/46" (and how many are also textually identical); exits 1 when
any suite differs in meaning.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gateway.composition import CompositionError, SubgraphSource, compose, compose_from_config  # noqa: E402
from gateway.composition.semantic_diff import supergraph_differences  # noqa: E402


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def compare_suite(server: str, suite: str, fetch: bool) -> tuple[list[str], bool]:
    """(differences in meaning, whether the text is also identical).

    With `fetch`, only names and URLs are used: each subgraph's SDL comes from its `{ _service { sdl } }`."""
    listed = json.loads(_get(f"{server}/{suite}/subgraphs"))
    expected = _get(f"{server}/{suite}/supergraph")
    try:
        if fetch:
            with tempfile.TemporaryDirectory() as folder:
                config = Path(folder) / "subgraphs.json"
                config.write_text(json.dumps([{"name": s["name"], "url": s["url"]} for s in listed]))
                actual = compose_from_config(str(config))
        else:
            actual = compose([SubgraphSource(s["name"], s["url"], s["sdl"]) for s in listed])
    except CompositionError as err:
        return [f"composition failed: {e}" for e in err.errors], False
    return supergraph_differences(expected, actual), actual.rstrip("\n") == expected.rstrip("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="http://127.0.0.1:4200")
    parser.add_argument("--suite", action="append", default=[], help="only these suites (repeatable)")
    parser.add_argument("--fetch", action="store_true",
                        help="fetch each subgraph's SDL over HTTP ({ _service { sdl } }) instead of using the listed SDL")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every difference, not the first five")
    args = parser.parse_args()
    suites = args.suite or json.loads(_get(f"{args.server}/ids"))
    matches = identical = 0
    for suite in suites:
        diffs, same_text = compare_suite(args.server, suite, args.fetch)
        if not diffs:
            matches += 1
            identical += same_text
            print(f"ok      {suite}" + ("" if same_text else "  (same meaning, different text)"))
            continue
        print(f"DIFFERS {suite} ({len(diffs)} differences)")
        for diff in diffs if args.verbose else diffs[:5]:
            print(f"          {diff}")
    print(f"matches: {matches}/{len(suites)} (textually identical: {identical}/{len(suites)})")
    return 0 if matches == len(suites) else 1


if __name__ == "__main__":
    sys.exit(main())
