"""The RSS and CPU sums must cover a process and its children (uvicorn workers, npx → node)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.federation.process_tree import process_tree, tree_cpu_seconds, tree_rss_bytes

BUSY_CHILD = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"


def test_tree_includes_children_and_sums_their_memory_and_cpu():
    parent_code = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {BUSY_CHILD!r}])\ntime.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", parent_code], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(process_tree(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = process_tree(parent.pid)
        assert len(pids) == 2 and pids[0] == parent.pid
        parent_only, _ = tree_rss_bytes(pids[1])  # the child alone
        total, count = tree_rss_bytes(parent.pid)
        assert count == 2
        assert total > parent_only > 0
        time.sleep(0.6)  # the child has burnt its 0.3 s of CPU by now
        assert tree_cpu_seconds(parent.pid) >= 0.25
    finally:
        subprocess.run(["kill", "--", f"-{parent.pid}"], check=False)
        parent.wait()


def test_a_finished_process_has_no_tree_memory():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert tree_rss_bytes(done.pid) == (0, 0)
