"""Which kyodo a measurement ran: the commit, and whether the gateway's files differed from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def kyodo_revision() -> str | None:
    """e.g. "42ee424" or "42ee424 + uncommitted changes"; taken when a run starts, since the tree is shared."""
    try:
        head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5).stdout.strip()
        changed = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "gateway", "kyodo"],
                                 capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not head:
        return None
    return f"{head} + uncommitted changes in gateway/ or kyodo/" if changed else head
