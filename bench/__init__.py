"""Benchmarks and the public federation gateway audit runner (never timed tests)."""
