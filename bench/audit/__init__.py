"""Runs the public federation gateway audit (46 suites, 199 cases) against a gateway on this machine."""
