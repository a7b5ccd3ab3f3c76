"""Schema checks for CI: classify each change between two schemas as breaking, dangerous or safe
(classify.py), and name the operations of a persisted-query manifest a change breaks (operations.py).
`kyodo check OLD NEW [--operations MANIFEST]` is command.py."""

from gateway.schema_check.classify import Change, classify_changes
from gateway.schema_check.operations import BrokenOperation, broken_operations

__all__ = ["BrokenOperation", "Change", "broken_operations", "classify_changes"]
