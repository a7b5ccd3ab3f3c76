// Apollo Gateway (the baseline): `node apollo_gateway.mjs <supergraph.graphql> <port>`.
// @apollo/gateway's RemoteGraphQLDataSource sends every subgraph fetch (no request deduplication or
// response cache exists in it), so, like kyodo, identical client requests are never merged.

import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const [supergraphPath, port] = process.argv.slice(2);
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, "utf8") });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: Number(port) } });
console.log(`Apollo Gateway on ${url}`);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.stop().then(() => process.exit(0)));
