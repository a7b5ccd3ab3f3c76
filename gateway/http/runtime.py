"""Process-wide tuning of a serving gateway process (never applied by tests or library use)."""

from __future__ import annotations

import gc

from gateway.settings import RuntimeSettings


def tune_garbage_collector(runtime: RuntimeSettings) -> tuple[int, int, int]:
    """Raise the collector's thresholds and freeze what start-up allocated; returns the thresholds set.

    Reference counting still frees acyclic garbage at once, so memory does not grow with the larger
    gen-0 threshold; only the scans for cycles become rarer (bench/federation measured the difference).
    """
    if runtime.gc_freeze_after_startup:
        gc.collect()
        gc.freeze()
    thresholds = (runtime.gc_gen0_threshold, runtime.gc_gen1_threshold, runtime.gc_gen2_threshold)
    if thresholds[0] > 0:
        gc.set_threshold(*thresholds)
    return gc.get_threshold()
