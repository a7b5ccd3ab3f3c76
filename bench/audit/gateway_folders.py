"""Write the audit gateway folders this runner drives, inside the audit checkout (never in our repo).

Each folder follows the audit's convention: `sh run.sh <suite>` run from inside the folder, and
`gateway.json` with the `graphql` and `health` URLs. run.sh fetches what its gateway needs from the
audit server named by AUDIT_URL (the audit's own folders always ask port 4200), so the folders also
work with the audit's CLI.

- `gateways/kyodo`: `kyodo serve` on the audit's supergraph, or with KYODO_AUDIT_COMPOSE=1 on the
  suite's subgraph list, composed by kyodo.
- `gateways/apollo-gateway-via-audit-url`: the audit's own Apollo Gateway server (gateways/apollo-gateway/run.ts,
  port 4000), fed from AUDIT_URL; used to check this runner against Apollo Gateway's published score.
"""

from __future__ import annotations

import json
from pathlib import Path

KYODO_RUN_SH = """#!/bin/sh
# Written by kyodo's bench/audit runner. Usage: sh run.sh <suite id>
set -e
cd "$(dirname "$0")"
AUDIT_URL="${{AUDIT_URL:-{audit_url}}}"
# The audit's subgraphs are open test data: kyodo serve must be told there is no token issuer.
export KYODO__AUTH__ANONYMOUS_ONLY=true
# Production defaults otherwise, except demand control's maximum: the audit's supergraphs declare no
# @listSize, so every list counts as 10 items and three nested lists (child-type-mismatch, nested-provides)
# pass the default maximum of 1000. The audit checks answers, not cost policy.
export KYODO__DEMAND_CONTROL__MAX_COST=100000
if [ "${{KYODO_AUDIT_COMPOSE:-0}}" = 1 ]; then
  curl -fsS "$AUDIT_URL/$1/subgraphs" -o subgraphs.json
  exec {kyodo} serve --subgraphs subgraphs.json --host 127.0.0.1 --port {port}
else
  curl -fsS "$AUDIT_URL/$1/supergraph" -o supergraph.graphql
  exec {kyodo} serve --supergraph supergraph.graphql --host 127.0.0.1 --port {port}
fi
"""

APOLLO_RUN_SH = """#!/bin/sh
# Written by kyodo's bench/audit runner. Usage: sh run.sh <suite id>
set -e
cd "$(dirname "$0")"
AUDIT_URL="${{AUDIT_URL:-{audit_url}}}"
curl -fsS "$AUDIT_URL/$1/supergraph" -o supergraph.graphql
exec ../../node_modules/.bin/tsx ../apollo-gateway/run.ts
"""


def _write(folder: Path, run_sh: str, name: str, port: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.sh").write_text(run_sh)
    (folder / "run.sh").chmod(0o755)
    gateway = {"name": name, "graphql": f"http://127.0.0.1:{port}/graphql", "health": f"http://127.0.0.1:{port}/health"}
    (folder / "gateway.json").write_text(json.dumps(gateway, indent=2) + "\n")
    return folder


def write_kyodo_folder(audit_dir: Path, kyodo_bin: Path, port: int, audit_url: str) -> Path:
    run_sh = KYODO_RUN_SH.format(audit_url=audit_url, kyodo=kyodo_bin, port=port)
    return _write(audit_dir / "gateways" / "kyodo", run_sh, "kyodo", port)


def write_apollo_folder(audit_dir: Path, audit_url: str) -> Path:
    # run.ts reads ./supergraph.graphql and always listens on 4000.
    run_sh = APOLLO_RUN_SH.format(audit_url=audit_url)
    return _write(audit_dir / "gateways" / "apollo-gateway-via-audit-url", run_sh, "Apollo Gateway", 4000)
