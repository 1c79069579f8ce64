"""Speed of segment breakdowns (issue 17): each analytic with ``by=`` against itself without.

    python benchmarks/segments.py --data /tmp/jl-bench           # 10M events, best of 3
    python benchmarks/segments.py --sizes 2e5 --repeat 1         # smoke test, a minute

For each engine (pandas, Polars lazy, DuckDB) it times ``jl.stage_funnel``, ``jl.retention``
(monthly cohorts) and ``jl.funnel`` (the four-step funnel of ``benchmarks/analytics.py``),
each without a breakdown, the reference, and with ``by="channel", by_rule="last"``: the
channel of the customer's last touchpoint, a column of 12 values of which the 10 largest keep
their name and the rest form ``(other)``, so the breakdown has 11 segments. (The first
channel, the acquisition channel, has only 7 values in the simulator.) The target (issue 17) is a
breakdown costing under 1.5x the same call without one, on 10M events: one pass, not one per
segment.

The logs are ``benchmarks/analytics.py``'s (``journey_lib.simulator``, seed 0, about 16
events per customer), written once to Parquet in ``--data`` and reused by the other scripts.
Every measurement runs in a fresh process that first loads the data (not timed), so its peak
resident memory (``ru_maxrss``) is its own, data included; the time is the best of
``--repeat`` runs; lazy results are forced (Polars ``collect``, DuckDB ``df``).

**Every answer is checked before any time is printed**: the broken-down answers are the
same on the three engines, and they add up to the answer without a breakdown (for every
stage, the customers of all segments sum to the stage's customers; for every cohort and
period, cohort sizes and retained customers sum to the whole log's; for every funnel step,
customers sum to the step's). A difference stops the script without printing a figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import analytics as base  # benchmarks/analytics.py: the logs, loading, child processes
from _common import Measure, child, load_answer, measure

HERE = Path(__file__).resolve().parent
ENGINES = ("pandas", "polars", "duckdb")
BY = "channel"
WORKS = ("stage_funnel", "retention", "funnel")
TARGET = 1.5  # with by / without, on every engine (issue 17)


def work(name: str) -> Callable[[Any], Any]:
    import journey_lib as jl

    def retention(events: Any, **by: Any) -> Any:
        return jl.retention(events, period="month", **by)

    def funnel(events: Any, **by: Any) -> Any:
        return jl.funnel(events, base.STEPS, **by)

    plain = {"stage_funnel": jl.stage_funnel, "retention": retention, "funnel": funnel}
    if name.endswith("_by"):
        run = plain[name.removesuffix("_by")]
        return lambda events: run(events, by=BY, by_rule="last")
    run = plain[name]
    return lambda events: run(events)


#: For each work: the keys of its rows without a breakdown, and the counts that add up.
ADDS_UP = {
    "stage_funnel": (["step"], ["customers", "progressed", "regressed"]),
    "retention": (["cohort", "period"], ["cohort_size", "customers"]),
    "funnel": (["step"], ["customers"]),
}


def check(results: dict[tuple[str, str], Measure], engines: list[str], works: list[str]) -> None:
    """Stop unless the broken-down answers agree across engines and add up to the whole."""
    import numpy as np
    import pandas as pd

    for name in works:
        keys, counts = ADDS_UP[name]
        whole = load_answer(results[(engines[0], name)])
        first = None
        for engine in engines:
            split = load_answer(results[(engine, f"{name}_by")])
            split = split.sort_values([BY, *keys], kind="stable").reset_index(drop=True)
            if first is None:
                first = split
                present = [c for c in counts if c in split.columns]
                assert present, f"{name}: none of {counts} in {list(split.columns)}"
                summed = split.groupby(keys)[present].sum().reset_index()
                want = whole[[*keys, *present]].sort_values(keys).reset_index(drop=True)
                for column in present:
                    got = summed[column].to_numpy(dtype=float)
                    assert np.array_equal(got, want[column].to_numpy(dtype=float)), (
                        f"{name}: {column} of the segments does not add up to the whole"
                    )
                assert split[BY].nunique() == 11, f"{name}: {split[BY].nunique()} segments"
                continue
            pd.testing.assert_frame_equal(
                split, first, check_dtype=False, check_exact=False, rtol=1e-9
            )


def table(results: dict[tuple[str, str], Measure], engines: list[str], works: list[str]) -> str:
    lines = [
        "| analytic | engine | without by (s) | with by (s) | ratio | peak GB (with by) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in works:
        for engine in engines:
            plain, split = results[(engine, name)], results[(engine, f"{name}_by")]
            if plain.best is None or split.best is None:
                lines.append(f"| {name} | {engine} | {plain.error or split.error} | | | |")
                continue
            lines.append(
                f"| {name} | {engine} | {plain.best:.2f} | {split.best:.2f} | "
                f"{split.best / plain.best:.2f}x | {split.peak_gb:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e7", help="log sizes in events, e.g. 1e6,1e7")
    parser.add_argument("--engines", default=",".join(ENGINES), help="of " + ",".join(ENGINES))
    parser.add_argument("--works", default=",".join(WORKS), help="of " + ",".join(WORKS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", help="folder for the simulated logs (kept; reused)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(base.RESULT + json.dumps(child(json.loads(args.child), work)), flush=True)
        return
    engines = [e for e in args.engines.split(",") if e]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise SystemExit(f"unknown engine(s) {unknown}; choose from {ENGINES}")
    works = [w for w in args.works.split(",") if w]
    if set(works) - set(WORKS):
        raise SystemExit(f"unknown work(s) {sorted(set(works) - set(WORKS))}; choose from {WORKS}")
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="jl-seg-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(base._versions(), flush=True)
    for n in (int(float(s)) for s in args.sizes.split(",") if s):
        got = base._run(
            [sys.executable, str(HERE / "analytics.py"), "--generate", str(folder), str(n)]
        )
        if "error" in got:
            raise SystemExit(f"generating {n:,} events failed: {got['error']}")
        source = str(folder / f"events-{base.size_label(n)}.parquet")
        rows = base._parquet_rows(Path(source))
        answers = Path(tempfile.mkdtemp(prefix="answers-", dir=folder))
        results = {}
        for name in works:
            for variant in (name, f"{name}_by"):
                for engine in engines:
                    results[(engine, variant)] = measure(
                        __file__, engine, variant, source, args.repeat, answers
                    )
                    print(f"  {engine} {variant}: {results[(engine, variant)].best}", flush=True)
        check(results, engines, works)
        print(
            f"\n### {rows:,} events, by={BY!r}, by_rule='last' (11 segments), "
            f"best of {args.repeat}\n"
        )
        print(table(results, engines, works))


if __name__ == "__main__":
    main()
