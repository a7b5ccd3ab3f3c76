"""Print a differential results file by class: `python -m bench.differential.show bench/results/differential-….json`.

Per signature: count, supergraphs, how Hive Gateway sided (with --hive), and the minimized operation with
each gateway's answer (or the first recorded one when minimizing was not reached).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    results = json.loads(Path(argv[0]).read_text())
    limit = int(argv[1]) if len(argv) > 1 else 600
    print(f"{results['agreed']}/{results['tried']} agree; complete: {results.get('complete')}")
    for target in results["targets"]:
        if target["tried"] != target["agreed"] or target["note"]:
            print(f"  {target['name']}: {target['agreed']}/{target['tried']} {target['note']}")
    for number, group in enumerate(results["classes"], 1):
        example = group["minimized"] or group["records"][0]
        print(f"\n## {number}. {group['count']}× {group['signature']}\n   in {', '.join(group['targets'])}"
              f"\n   hive agrees with: {group.get('hive_agrees_with')}")
        print(f"   [{example['target']} seed {example['seed']}] {' '.join(example['query'].split())}  "
              f"variables {json.dumps(example['variables'])}")
        for name, answer in example["answers"].items():
            body = answer.get("body", answer) if "status" in answer else answer
            print(f"   {name}: {json.dumps(body)[:limit]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
