"""kyodo (共同): a GraphQL federation gateway for shared municipal data platforms."""

__version__ = "0.1.0"
