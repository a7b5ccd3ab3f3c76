// Deterministic generated data shared by the four bench subgraphs: no randomness, so every run and
// every gateway sees the same response bytes.

export const PRODUCT_COUNT = 100;
export const USER_COUNT = 100;
export const REVIEWS_PER_PRODUCT = 5;

const WORDS = ["sturdy", "light", "quiet", "bright", "compact", "handy", "simple", "durable", "warm", "clear",
  "smooth", "solid", "gentle", "quick", "neat", "fresh"];

function phrase(seed, length) {
  const words = [];
  for (let i = 0; i < length; i++) words.push(WORDS[(seed * 7 + i * 13) % WORDS.length]);
  return words.join(" ");
}

export const users = Array.from({ length: USER_COUNT }, (_, i) => ({
  id: `u${i + 1}`,
  name: `User ${i + 1} ${phrase(i, 2)}`,
  username: `user${i + 1}`,
  birthDate: `19${50 + (i % 50)}-${String((i % 12) + 1).padStart(2, "0")}-${String((i % 28) + 1).padStart(2, "0")}`,
}));

export const products = Array.from({ length: PRODUCT_COUNT }, (_, i) => ({
  upc: `p${i + 1}`,
  name: `Product ${i + 1} ${phrase(i, 2)}`,
  price: 100 + ((i * 37) % 900),
  weight: 1 + ((i * 11) % 50),
}));

export const inventory = products.map((product, i) => ({ upc: product.upc, inStock: i % 7 !== 0 }));

// Review k of product p is written by a user chosen so that every user writes the same number of reviews.
export const reviews = products.flatMap((product, p) =>
  Array.from({ length: REVIEWS_PER_PRODUCT }, (_, k) => ({
    id: `r${p * REVIEWS_PER_PRODUCT + k + 1}`,
    body: `Review ${k + 1} of ${product.upc}: ${phrase(p + k, 8)}.`,
    authorId: users[(p * REVIEWS_PER_PRODUCT + k) * 7 % USER_COUNT].id,
    productUpc: product.upc,
  })),
);

export const byId = (list, key) => new Map(list.map((item) => [item[key], item]));
