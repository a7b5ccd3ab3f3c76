// One bench subgraph on node:http + graphql-js: `node serve.mjs <name> <port>`.
// Kept lean on purpose (parsed and validated documents cached, no framework) so that the
// subgraphs are not what limits the gateways under test.
// POST /__bench/capture-start, then /__bench/capture-stop returns the request bodies received in
// between: what one gateway request asks of this subgraph, replayed later to measure it directly.

import { createServer } from "node:http";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { execute, parse, validate } from "graphql";

const [name, port] = process.argv.slice(2);
const { typeDefs, resolvers } = await import(`./${name}.mjs`);
const schema = buildSubgraphSchema([{ typeDefs: parse(typeDefs), resolvers }]);
const documents = new Map();
let captured = null; // an array while capturing
// The data never changes, so a response depends only on the request body: keep each body's response
// (computed by executing it the first time). Every request still reaches the subgraph; it just answers
// without re-executing, which keeps the subgraphs far from being the bottleneck. BENCH_SUBGRAPH_MEMO=0
// turns this off.
const memo = process.env.BENCH_SUBGRAPH_MEMO === "0" ? null : new Map();

function prepare(query) {
  let prepared = documents.get(query);
  if (!prepared) {
    try {
      const document = parse(query);
      const errors = validate(schema, document);
      prepared = errors.length ? { errors } : { document };
    } catch (error) {
      prepared = { errors: [error] };
    }
    if (documents.size < 1000) documents.set(query, prepared);
  }
  return prepared;
}

function reply(res, status, payload) {
  send(res, status, Buffer.from(JSON.stringify(payload)));
}

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/health") return reply(res, 200, { ok: true });
  if (req.url === "/__bench/capture-start") {
    captured = [];
    return reply(res, 200, { capturing: true });
  }
  if (req.url === "/__bench/capture-stop") {
    const bodies = captured ?? [];
    captured = null;
    return reply(res, 200, { bodies });
  }
  if (req.method !== "POST") return reply(res, 405, { errors: [{ message: "POST only" }] });
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const raw = Buffer.concat(chunks).toString();
    if (captured) captured.push(raw);
    const remembered = memo?.get(raw);
    if (remembered) return send(res, 200, remembered);
    let request;
    try {
      request = JSON.parse(raw);
    } catch {
      return reply(res, 400, { errors: [{ message: "body is not JSON" }] });
    }
    const prepared = prepare(request.query ?? "");
    if (prepared.errors) return reply(res, 400, { errors: prepared.errors.map((e) => ({ message: e.message })) });
    const result = await execute({
      schema, document: prepared.document, variableValues: request.variables, operationName: request.operationName,
    });
    const body = Buffer.from(JSON.stringify(result));
    if (memo && !result.errors && memo.size < 10_000) memo.set(raw, body);
    send(res, 200, body);
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(port), "127.0.0.1", () => console.log(`${name} subgraph on http://127.0.0.1:${port}/graphql`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
