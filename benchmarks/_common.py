"""The scaffolding the per-issue benchmark scripts share (``flows.py``, ``segments.py``):
one measurement per fresh process, its answer kept for the checks.

A script calls :func:`measure` in the parent for each (engine, work); that runs the script
again with ``--child SPEC``, whose ``main`` hands the spec to :func:`child` with the script's
own ``work(name)`` (a function of the loaded log). The child loads the data (not timed),
times the work ``repeat`` times, pickles its last answer as pandas for the parent's checks,
and reports the times and its peak resident memory, the data included.
"""

from __future__ import annotations

import json
import math
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import analytics as base  # benchmarks/analytics.py: the logs, loading, child processes


@dataclass
class Measure:
    """One measurement: its times (s), peak memory (GB), or the error that stopped it, and
    where its answer was kept."""

    times: list[float] = field(default_factory=list)
    peak_gb: float = math.nan
    error: str | None = None
    answer: Path | None = None

    @property
    def best(self) -> float | None:
        return min(self.times) if self.times and not self.error else None


def child(spec: dict[str, Any], work: Callable[[str], Callable[[Any], Any]]) -> dict[str, Any]:
    """In the child: load the data, time ``work(spec["work"])`` ``repeat`` times, keep its
    last answer (as pandas) at ``spec["answer"]``; the times and memory."""
    engine = spec["engine"]
    data, handle = base.load(engine, spec["source"])
    data_gb = base.rss_gb()
    run = work(spec["work"])
    times, answer = [], None
    for _ in range(spec["repeat"]):
        start = time.perf_counter()
        answer = base.force(run(data))
        times.append(time.perf_counter() - start)
    with open(spec["answer"], "wb") as f:
        pickle.dump(base.as_pandas(answer), f)
    out = {"times": times, "peak_gb": base.peak_gb(), "data_gb": data_gb}
    base.close(engine, handle)
    return out


def measure(
    script: str, engine: str, name: str, source: str, repeat: int, answers: Path
) -> Measure:
    """In the parent: run ``script --child`` for one work on one engine, in a fresh process."""
    path = answers / f"{engine}-{name}.pkl"
    spec = {"engine": engine, "work": name, "repeat": repeat, "source": source}
    got = base._run(
        [
            sys.executable,
            str(Path(script).resolve()),
            "--child",
            json.dumps(spec | {"answer": str(path)}),
        ]
    )
    if "error" in got:
        return Measure(error=got["error"])
    return Measure(times=got["times"], peak_gb=got["peak_gb"], answer=path)


def load_answer(m: Measure) -> Any:
    """The answer a measurement kept (it must have one)."""
    assert m.answer is not None and not m.error, f"no answer: {m.error}"
    with open(m.answer, "rb") as f:
        return pickle.load(f)
