import { reviews } from "./data.mjs";

const reviewsByProduct = new Map();
const reviewsByAuthor = new Map();
for (const review of reviews) {
  if (!reviewsByProduct.has(review.productUpc)) reviewsByProduct.set(review.productUpc, []);
  reviewsByProduct.get(review.productUpc).push(review);
  if (!reviewsByAuthor.has(review.authorId)) reviewsByAuthor.set(review.authorId, []);
  reviewsByAuthor.get(review.authorId).push(review);
}
const usernames = new Map(reviews.map((review) => [review.authorId, `user${review.authorId.slice(1)}`]));

export const typeDefs = /* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@provides", "@shareable"])

  type Review @key(fields: "id") {
    id: ID!
    body: String
    author: User @provides(fields: "username")
    product: Product
  }

  type User @key(fields: "id") {
    id: ID!
    username: String @external
    reviews: [Review!]!
  }

  type Product @key(fields: "upc") {
    upc: String!
    reviews: [Review!]!
  }
`;

export const resolvers = {
  Review: {
    author: (review) => ({ id: review.authorId, username: usernames.get(review.authorId) }),
    product: (review) => ({ upc: review.productUpc }),
  },
  User: {
    reviews: (user) => reviewsByAuthor.get(user.id) ?? [],
  },
  Product: {
    reviews: (product) => reviewsByProduct.get(product.upc) ?? [],
  },
};
