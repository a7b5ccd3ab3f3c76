"""The hand judgments of README.md as rules, so that the class counts can be recomputed from result files:
`python -m bench.differential.judged_classes bench/results/differential-*.json` (-v prints the unclassified).

Each rule was written after reading the minimized examples of its signatures, the suite's subgraph code and
data, and Hive Gateway's answer; a rule looks at the minimized example of a signature (else its first
record) and puts every operation of that signature into one class. "KYODO" classes are kyodo's bugs,
"APOLLO" ones Apollo Gateway's; the others are no one's bug.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from graphql import FieldNode, Visitor, parse, visit

_GENERATED_ALIAS = re.compile(r"^[at]\d+$")  # the generator's own fresh aliases; any other is a field name


def collision_aliases(query: str) -> list[str]:
    """Aliases that are another field's name (the generator picks those from the same parent type)."""
    found: list[str] = []

    class Aliases(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.alias and not _GENERATED_ALIAS.match(node.alias.value) and node.alias.value != node.name.value:
                found.append(node.alias.value)

    visit(parse(query), Aliases())
    return found


def _body(answer: Any) -> Any:
    return answer.get("body", answer) if isinstance(answer, dict) and "status" in answer else answer


def judge(group: dict[str, Any]) -> str:
    example = group["minimized"] or group["records"][0]
    query = example["query"]
    answers = {name: json.dumps(_body(a)) for name, a in example["answers"].items()}
    kyodo, apollo = answers.get("kyodo", ""), answers.get("apollo", "")
    targets = set(group["targets"])
    if "mutations" in targets and "c-added-diff" in kyodo:
        return "harness: each gateway's own request id shows in the data"
    if "You should be using the 'c' subgraph" in kyodo:
        return "KYODO (fixed): extra key fetch + entity jump that provides-on-interface refuses"
    if "complex-entity-call" in targets and '"price": {}' in kyodo:
        return "KYODO (fixed): a merged field answered with another merged field's sub-selection"
    if "typename" in targets and '"__typename": "User"' in kyodo:
        return "KYODO (fixed): an @interfaceObject whose real type no subgraph gave answered with the interface's name"
    if collision_aliases(query):
        return "APOLLO: alias equal to a key/@requires field it adds to the same subgraph fetch"
    if "non-resolvable-interface-object" in targets and "Cannot plan" in kyodo:
        return "kyodo right: unplannable field refused with data null, as the audit case expects"
    if "flatMap" in apollo or "reading 'includes'" in kyodo:
        return "fixture: the subgraph fails; Apollo reports paths by representation index or loses all data"
    if "neverCalled" in kyodo:
        return "spec-permitted: which of two failing siblings under one nulled parent is reported"
    literal_exclusion = "@skip(if: true)" in query or "@include(if: false)" in query
    if literal_exclusion and '"errors"' in apollo and '"errors"' not in kyodo:
        return "APOLLO: a field excluded by a literal @skip/@include still planned or fetched"
    if "differing arguments" in apollo or "Unsupported currency" in kyodo or re.search(r"comments|shippingEstimate", query):
        return "APOLLO: @requires with arguments conflated with the client's field of other arguments"
    if "conflicting types" in apollo:
        return "APOLLO: merged fragments give the subgraph an invalid operation (ID vs ID!)"
    if "You should be using the 'a' subgraph" in apollo:
        return "APOLLO: media read from a subgraph provides-on-interface refuses"
    if "isActive" in query and "simple-interface-object" in targets:
        return "no one's bug: a @shareable field whose subgraphs disagree (either source is allowed)"
    if targets & {"simple-interface-object", "interface-object-with-requires", "keys-mashup", "mutations",
                  "circular-reference-interface", "interface-object-indirect-extension", "typename",
                  "non-resolvable-interface-object"}:
        return "APOLLO: fields in fragments through @interfaceObject or entity jumps dropped or nulled"
    return "UNCLASSIFIED"


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    counts: Counter[str] = Counter()
    targets: dict[str, set[str]] = defaultdict(set)
    unclassified = []
    for path in (a for a in argv if a != "-v"):
        for group in json.loads(Path(path).read_text())["classes"]:
            verdict = judge(group)
            counts[verdict] += group["count"]
            targets[verdict] |= set(group["targets"])
            if verdict == "UNCLASSIFIED":
                unclassified.append(group)
    for verdict, count in counts.most_common():
        print(f"{count:5}  {verdict}  [{', '.join(sorted(targets[verdict]))}]")
    if verbose:
        for group in unclassified:
            example = group["minimized"] or group["records"][0]
            print(f"?? {group['count']} {group['targets']} {' '.join(example['query'].split())}")
            for name, answer in example["answers"].items():
                print(f"     {name}: {json.dumps(_body(answer))[:240]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
