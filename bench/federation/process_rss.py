"""Resident memory of a process and all its descendants, sampled while a load runs."""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # field 4, after the "(comm)" that may hold spaces
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def process_tree(root: int) -> list[int]:
    tree = _children()
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(tree.get(pid, ()))
    return found


def tree_rss_bytes(root: int) -> tuple[int, int]:
    """(summed RSS in bytes, number of processes) of root and its descendants."""
    total, count = 0, 0
    for pid in process_tree(root):
        try:
            resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident_pages * PAGE
        count += 1
    return total, count


class PeakRssSampler:
    """Samples tree_rss_bytes(root) every `interval` seconds on a thread; keeps the peak."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root, self.interval = root, interval
        self.peak_bytes, self.processes = 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total, count = tree_rss_bytes(self.root)
            if total > self.peak_bytes:
                self.peak_bytes, self.processes = total, count
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
