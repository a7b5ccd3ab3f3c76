"""Resident memory and CPU time of a process and all its descendants, sampled while a load runs.

CPU time per request is the steadier figure on a shared machine: requests/s there depends on what else
the cores are doing, CPU milliseconds per request much less."""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


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


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by root and its live descendants."""
    ticks = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / TICKS


class PeakRssSampler:
    """Samples tree_rss_bytes(root) every `interval` seconds on a thread and keeps the peak; also takes the
    tree's CPU seconds used between entering and leaving."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root, self.interval = root, interval
        self.peak_bytes, self.processes = 0, 0
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total, count = tree_rss_bytes(self.root)
            if total > self.peak_bytes:
                self.peak_bytes, self.processes = total, count
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRssSampler:
        self._cpu_start = tree_cpu_seconds(self.root)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.cpu_seconds = tree_cpu_seconds(self.root) - self._cpu_start
        self._stop.set()
        self._thread.join()
