"""One timing helper for the benchmarks that run each side in the same process."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def timed(work: Callable[[], Any], repeat: int = 1) -> tuple[float, float, Any]:
    """Best time of ``repeat`` runs, tracemalloc's peak (GB) of the last, and the answer.
    The peak counts Python's and NumPy's buffers, not native libraries' own."""
    best, answer, peak = float("inf"), None, 0.0
    for _ in range(repeat):
        tracemalloc.start()
        start = time.perf_counter()
        answer = work()
        best = min(best, time.perf_counter() - start)
        peak = tracemalloc.get_traced_memory()[1] / 1e9
        tracemalloc.stop()
    return best, peak, answer
