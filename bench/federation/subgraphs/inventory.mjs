import { byId, inventory } from "./data.mjs";

const stockByUpc = byId(inventory, "upc");

export const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])

  type Product @key(fields: "upc") {
    upc: String!
    weight: Int @external
    price: Int @external
    inStock: Boolean
    shippingEstimate: Int @requires(fields: "price weight")
  }
`;

export const resolvers = {
  Product: {
    __resolveReference: (reference) => ({ ...reference, ...stockByUpc.get(reference.upc) }),
    // Free over 1000, otherwise by weight: needs `price` and `weight` from the products subgraph.
    shippingEstimate: (product) => (product.price > 1000 ? 0 : Math.round(product.weight * 0.5)),
  },
};
