"""Kasai's local-currency platform as a Federation 2 subgraph: point accounts, grants, spending, a ledger."""
