// Compose the four bench subgraphs into a supergraph with Apollo's composition:
// `node compose.mjs <out.graphql> accounts=<url> inventory=<url> products=<url> reviews=<url>`.

import { writeFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const [out, ...pairs] = process.argv.slice(2);
const services = await Promise.all(pairs.map(async (pair) => {
  const [name, url] = pair.split("=");
  const { typeDefs } = await import(`./subgraphs/${name}.mjs`);
  return { name, url, typeDefs: parse(typeDefs) };
}));
const result = composeServices(services);
if (result.errors) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
writeFileSync(out, result.supergraphSdl);
