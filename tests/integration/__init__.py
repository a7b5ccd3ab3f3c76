"""End-to-end proof of issues 3 and 4 on the real stack: `pytest tests/integration` (about 15 s).

Starts the four subgraphs (fresh SQLite each, migrated and seeded), the dev IdP and the gateway composed from
the subgraphs' live SDLs, all on free loopback ports in this process, and stops them at the end.
"""
