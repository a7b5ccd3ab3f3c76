import { byId, products } from "./data.mjs";

const productsByUpc = byId(products, "upc");

export const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Query {
    topProducts(first: Int = 5): [Product!]!
  }

  type Product @key(fields: "upc") {
    upc: String!
    name: String
    price: Int
    weight: Int
  }
`;

export const resolvers = {
  Query: {
    topProducts: (_, { first }) => products.slice(0, first),
  },
  Product: {
    __resolveReference: (reference) => productsByUpc.get(reference.upc),
  },
};
