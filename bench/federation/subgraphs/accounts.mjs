import { byId, users } from "./data.mjs";

const usersById = byId(users, "id");

export const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])

  type Query {
    me: User
    users: [User!]!
  }

  type User @key(fields: "id") {
    id: ID!
    name: String
    username: String @shareable
    birthDate: String
  }
`;

export const resolvers = {
  Query: {
    me: () => users[0],
    users: () => users,
  },
  User: {
    __resolveReference: (reference) => usersById.get(reference.id),
  },
};
